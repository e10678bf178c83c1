"""What outlives a turn: the conversations and the history file beside the notebook."""
