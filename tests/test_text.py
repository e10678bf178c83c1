"""SDK enum values and plain strings read as the same wire name."""

from __future__ import annotations

from google.genai import types

from gemini_magic.text import enum_text, outcome_name


def test_enum_members_and_strings_read_the_same() -> None:
    assert enum_text(types.Outcome.OUTCOME_FAILED) == "OUTCOME_FAILED"
    assert enum_text("OUTCOME_FAILED") == "OUTCOME_FAILED"
    assert enum_text(types.FinishReason.STOP) == "STOP"


def test_missing_values_read_as_the_default() -> None:
    assert enum_text(None) == ""
    assert enum_text(None, "python") == "python"
    assert enum_text("", "python") == "python"
    assert outcome_name(None) == "OUTCOME_UNSPECIFIED"
