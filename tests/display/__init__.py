"""Tests of gemini_magic.display."""
