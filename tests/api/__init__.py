"""Tests of gemini_magic.api."""
