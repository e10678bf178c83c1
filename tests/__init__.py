"""The test suite: one folder per subpackage of gemini_magic, helpers in tests.helpers."""
