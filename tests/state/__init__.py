"""Tests of gemini_magic.state."""
