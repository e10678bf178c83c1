"""The Gemini API behind one seam: the client, the two backends, the one error boundary."""
