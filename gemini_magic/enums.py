"""SDK enum values as text, without importing the SDK.

The SDK hands back enums (``Outcome``, ``FinishReason``, ``Language``) where a response
was parsed and plain strings where a value came from our own history file or the
emulator.  Everything we show or store wants the wire name, so one helper reads both.
"""

from __future__ import annotations

from typing import Any

#: Outcome names of ``CodeExecutionResult`` (plain strings, so no SDK import is needed).
OUTCOME_OK = "OUTCOME_OK"
OUTCOME_FAILED = "OUTCOME_FAILED"
OUTCOME_DEADLINE_EXCEEDED = "OUTCOME_DEADLINE_EXCEEDED"
OUTCOME_UNSPECIFIED = "OUTCOME_UNSPECIFIED"


def enum_text(value: Any, default: str = "") -> str:
    """The wire name of an SDK enum member or a string (``default`` for None or "")."""
    if value is None:
        return default
    return str(getattr(value, "value", value)) or default


def outcome_name(outcome: Any) -> str:
    """``"OUTCOME_OK"`` from an SDK ``Outcome`` enum, a string or None."""
    return enum_text(outcome, OUTCOME_UNSPECIFIED)
