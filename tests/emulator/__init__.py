"""Tests of the offline emulator (gemini_magic.emulator)."""
