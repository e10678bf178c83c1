"""Tests of gemini_magic.answer."""
