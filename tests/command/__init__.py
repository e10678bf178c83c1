"""Tests of gemini_magic.command."""
