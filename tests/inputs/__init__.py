"""Tests of gemini_magic.inputs."""
