"""What a prompt sends: its text, and the values it names as attachments."""
