"""How an answer looks: safe Markdown, labelled code and output, the streaming view."""
