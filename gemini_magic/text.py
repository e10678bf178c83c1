"""Small text helpers shared by every layer: sizes, counts and SDK enum values as text.

One place for how a size or a count reads, so the ``Sent:`` line, a folded output and an
error message never disagree about what "5.2 kB" means.

The SDK hands back enums (``Outcome``, ``FinishReason``, ``Language``) where a response
was parsed and plain strings where a value came from our own history file or the
emulator.  Everything we show or store wants the wire name, so one helper reads both,
without importing the SDK.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

#: Outcome names of ``CodeExecutionResult`` (plain strings, so no SDK import is needed).
OUTCOME_OK = "OUTCOME_OK"
OUTCOME_FAILED = "OUTCOME_FAILED"
OUTCOME_DEADLINE_EXCEEDED = "OUTCOME_DEADLINE_EXCEEDED"
OUTCOME_UNSPECIFIED = "OUTCOME_UNSPECIFIED"


def human_size(n_bytes: int | float) -> str:
    """Decimal units, as file managers show them: ``512 B``, ``5.2 kB``, ``3.4 MB``."""
    if n_bytes < 1_000:
        return f"{int(n_bytes)} B"
    if n_bytes < 1e6:
        return f"{n_bytes / 1e3:.1f} kB"
    if n_bytes < 1e9:
        return f"{n_bytes / 1e6:.1f} MB"
    return f"{n_bytes / 1e9:.1f} GB"


def count(n: int, noun: str) -> str:
    """``1 row``, ``1,200 rows``: a number with its noun, plural when it is not one."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def enum_text(value: Any, default: str = "") -> str:
    """The wire name of an SDK enum member or a string (``default`` for None or "")."""
    if value is None:
        return default
    return str(getattr(value, "value", value)) or default


def code_language(language: Any) -> str:
    """``python`` or ``bash`` (lower case) from an SDK ``Language``, a string or None."""
    name = enum_text(language, "PYTHON")
    return "python" if name == "LANGUAGE_UNSPECIFIED" else name.lower()


@contextlib.contextmanager
def newer_enums() -> Iterator[None]:
    """Quiet the SDK's warning for an enum value newer than its types: ``BASH`` is a
    code language of the Interactions API that generateContent's ``Language`` lacks,
    and a part keeps it as it came."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".* is not a valid Language$")
        yield


def outcome_name(outcome: Any) -> str:
    """``"OUTCOME_OK"`` from an SDK ``Outcome`` enum, a string or None."""
    return enum_text(outcome, OUTCOME_UNSPECIFIED)
