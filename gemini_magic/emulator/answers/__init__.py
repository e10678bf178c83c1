"""What the emulated model answers: scripted replies, the analyst, the sandbox, faults."""
