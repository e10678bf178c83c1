"""What we know about Gemini models: the default, their status, thinking levels, notes.

From Google's pages as re-checked 2026-12-06 (shared notes, interactions-facts.md §8-§9):

* ``gemini-3.8-flash`` is generally available on free and paid tiers with no shutdown
  date (thinking levels low, medium, high; medium by default; ``minimal`` is an error).
* Gemini 4: ``gemini-4-argon`` (GA 2026-10-13, free and paid; low to high, default
  medium), ``gemini-4-hydrogen`` (released 2026-11-12, free and paid; low to xhigh,
  default high), ``gemini-4-neon`` (GA 2026-11-18, paid; low to xhigh, default high),
  ``gemini-4-carbon`` (released, paid; up to high).  None takes ``minimal``.
* ``gemini-3.7-flash`` is discontinued and routed to 3.8 Flash; ``gemini-2.5-flash`` and
  ``gemini-2.5-pro`` were shut down on 2026-12-01.
* Temperature, top_p and top_k are deprecated and *ignored* since Gemini 3.6 Flash.

The default stays ``gemini-3.8-flash``: the one GA Flash model for free and paid keys
alike (Argon, the other GA one on both tiers, is the most advanced and the slowest and
dearest; Hydrogen's GA status is not on a Google page; Neon and Carbon are paid only).

A model the table does not know goes through as it is: the service decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gemini_magic.errors import UsageError

#: A current GA model with code execution, on free and paid tiers alike.
DEFAULT_MODEL = "gemini-3.8-flash"

#: Part of every ``modelVersion`` (``f"{model}-{OFFLINE_MARK}"``) and interaction id the
#: bundled offline emulator answers with, so an answer shows it came from there.
OFFLINE_MARK = "offline-emulator"

_UP_TO_HIGH = ("low", "medium", "high")
_UP_TO_XHIGH = ("low", "medium", "high", "xhigh")


@dataclass(frozen=True)
class Model:
    """One model as Google's pages describe it (None: the pages do not say)."""

    status: str
    """``GA``, ``preview``, ``released ...`` or ``deprecated: ...``."""
    tiers: str = ""
    """``free and paid`` or ``paid``."""
    levels: tuple[str, ...] | None = None
    """The thinking levels it takes."""
    default_level: str | None = None
    code_execution: bool | None = None


#: The models a user should know something about before relying on them.
TABLE: dict[str, Model] = {
    "gemini-4-argon": Model("GA 2026-10-13", "free and paid", _UP_TO_HIGH, "medium", True),
    "gemini-4-hydrogen": Model("released 2026-11-12", "free and paid", _UP_TO_XHIGH, "high", True),
    "gemini-4-neon": Model("GA 2026-11-18", "paid", _UP_TO_XHIGH, "high"),
    "gemini-4-carbon": Model("released", "paid", _UP_TO_HIGH, None, True),
    "gemini-3.8-flash": Model("GA", "free and paid", _UP_TO_HIGH, "medium", True),
    "gemini-3.7-flash": Model(
        "deprecated: discontinued, routed to gemini-3.8-flash", levels=_UP_TO_HIGH
    ),
    "gemini-3.6-flash": Model("", levels=("minimal", *_UP_TO_HIGH)),
    "gemini-3.5-flash": Model("GA"),
    "gemini-3.1-pro-preview": Model("preview", levels=_UP_TO_HIGH, default_level="high"),
    "gemini-2.5-flash": Model("deprecated: shut down 2026-12-01"),
    "gemini-2.5-pro": Model("deprecated: shut down 2026-12-01"),
    "gemini-2.5-flash-lite": Model("deprecated"),
    "gemini-2.0-flash": Model("deprecated"),
}

_PREVIEW = re.compile(r"-(preview|exp)(\b|-)")
_VERSION = re.compile(r"^gemini-(\d+)(?:\.(\d+))?")


def _name(model: str) -> str:
    return model.removeprefix("models/")


def status(model: str) -> str:
    """``GA``, ``preview``, ``released ...``, ``deprecated: ...`` or ``""`` (not known)."""
    name = _name(model)
    if name in TABLE:
        return TABLE[name].status
    if _PREVIEW.search(name):
        return "preview"
    return ""


def listing(names: list[str]) -> list[str]:
    """``%gemini models``: each name, with its status (unless plain GA), its tiers and
    the thinking levels it takes when the table knows them."""
    rows = []
    for name in names:
        model = TABLE.get(_name(name))
        known = status(name)
        facts = [known] if known and known != "GA" else []
        if model is not None and model.tiers:
            facts.append(f"{model.tiers} tier{'s' if 'and' in model.tiers else ''}")
        if model is not None and model.levels:
            default = f", default {model.default_level}" if model.default_level else ""
            facts.append(f"thinking {'/'.join(model.levels)}{default}")
        rows.append(name + (f"  ({'; '.join(facts)})" if facts else ""))
    return rows


def check_thinking(model: str, level: str | None) -> None:
    """Raise a one-line :class:`UsageError` for a level the table says ``model`` does
    not take; a model the table does not know goes through (the service decides)."""
    known = TABLE.get(_name(model))
    if not level or known is None or known.levels is None or level in known.levels:
        return
    raise UsageError(
        f"{_name(model)} does not take thinking level {level!r} (it takes "
        f"{', '.join(known.levels)}); nothing was sent."
    )


def ignores_temperature(model: str) -> bool:
    """Whether the service ignores temperature on ``model`` (Gemini 3.6 Flash and later)."""
    version = _VERSION.match(_name(model))
    if version is None:
        return False
    major, minor = int(version.group(1)), int(version.group(2) or 0)
    return major >= 4 or (major == 3 and minor >= 6)


def temperature_note(model: str, temperature: float | None) -> str | None:
    """One line when a temperature is sent to a model that ignores it or on which it is
    deprecated."""
    if temperature is None:
        return None
    if ignores_temperature(model):
        return (
            f"Temperature is ignored by the service on {_name(model)} (deprecated since "
            f"Gemini 3.6 Flash): it was sent as asked ({temperature:g}) and has no effect."
        )
    version = _VERSION.match(_name(model))
    if version is None or int(version.group(1)) < 3:
        return None
    return (
        f"Temperature is deprecated on {_name(model)} (Google recommends the default, 1.0); "
        f"it was sent as asked ({temperature:g})."
    )


def answered_by_note(asked: str, answered: str | None) -> str | None:
    """One line when the reply names another model than the one asked for."""
    if not answered:
        return None
    asked_name = _name(asked)
    answered_name = _name(answered)
    if answered_name.startswith(asked_name):  # a version suffix, or the offline mark
        return None
    note = f"{asked_name} was answered by {answered_name}"
    known = status(asked_name)
    return note + (f" ({asked_name}: {known})." if known.startswith("deprecated") else ".")
