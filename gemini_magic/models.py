"""What we know about Gemini models: the default, their status, and what to tell users.

From Google's pages as stored late 2026 (see shared notes, interactions-facts.md §8):
the Gemini 3.8 Flash guide lists ``gemini-3.8-flash`` as generally available (thinking
levels low, medium, high; medium by default), ai.google.dev's streaming page uses it in
its current example and says ``gemini-3.7-flash`` is discontinued and routed to it, and
the deprecations page shuts ``gemini-2.5-flash`` and ``gemini-2.5-pro`` down on
2026-12-01 (requests re-routed to other models, billed as those).  Temperature, top_p
and top_k are deprecated on current Gemini models.
"""

from __future__ import annotations

import re

#: A current GA model that supports code execution.
DEFAULT_MODEL = "gemini-3.8-flash"

#: Part of every ``modelVersion`` (``f"{model}-{OFFLINE_MARK}"``) and interaction id the
#: bundled offline emulator answers with, so an answer shows it came from there.
OFFLINE_MARK = "offline-emulator"

#: Models whose status a user should know before relying on them.
_STATUS = {
    "gemini-3.8-flash": "GA",
    "gemini-3.5-flash": "GA",
    "gemini-3.7-flash": "deprecated: discontinued, routed to gemini-3.8-flash",
    "gemini-2.5-flash": "deprecated: shut down 2026-12-01",
    "gemini-2.5-pro": "deprecated: shut down 2026-12-01",
    "gemini-2.5-flash-lite": "deprecated",
    "gemini-2.0-flash": "deprecated",
}

_PREVIEW = re.compile(r"-(preview|exp)(\b|-)")
_GEMINI_MAJOR = re.compile(r"^(?:models/)?gemini-(\d+)")


def status(model: str) -> str:
    """``GA``, ``preview``, ``deprecated: ...`` or ``""`` (not known here)."""
    name = model.removeprefix("models/")
    if name in _STATUS:
        return _STATUS[name]
    if _PREVIEW.search(name):
        return "preview"
    return ""


def listing(names: list[str]) -> list[str]:
    """``%gemini models``: each name, marked when it is a preview or deprecated."""
    rows = []
    for name in names:
        known = status(name)
        mark = f"  ({known})" if known and known != "GA" else ""
        rows.append(name + mark)
    return rows


def temperature_note(model: str, temperature: float | None) -> str | None:
    """One line when a temperature is sent to a model on which it is deprecated."""
    if temperature is None:
        return None
    major = _GEMINI_MAJOR.match(model)
    if major is None or int(major.group(1)) < 3:
        return None
    return (
        f"Temperature is deprecated on {model} (Google recommends the default, 1.0); "
        f"it was sent as asked ({temperature:g})."
    )


def answered_by_note(asked: str, answered: str | None) -> str | None:
    """One line when the reply names another model than the one asked for."""
    if not answered:
        return None
    asked_name = asked.removeprefix("models/")
    answered_name = answered.removeprefix("models/")
    if answered_name.startswith(asked_name):  # a version suffix, or the offline mark
        return None
    note = f"{asked_name} was answered by {answered_name}"
    known = status(asked_name)
    return note + (f" ({asked_name}: {known})." if known.startswith("deprecated") else ".")
