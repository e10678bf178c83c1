"""Tests of the Gemini kernel (gemini_magic.kernel)."""
