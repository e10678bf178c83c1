"""The ``google-genai`` SDK, imported on first use: the one place the package defers it.

Importing the SDK takes most of a second, and ``%load_ext`` must stay light, yet the
session, the backends and the conversation store are imported when the extension
loads.  So they import the SDK's modules from here, at the top like any other import,
and the SDK itself is imported the first time one of its names is read (by a prompt,
or earlier by the background warm-up, ``gemini_magic.warmup``).  Type checkers see the
SDK's own modules.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

__all__ = ["errors", "genai", "interactions_errors", "types"]


class _OnFirstUse:
    """Stands for a module, which is imported when one of its names is first read."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        return f"<{self._name}, imported on first use>"


if TYPE_CHECKING:
    from google import genai
    from google.genai import _interactions_errors as interactions_errors
    from google.genai import errors, types
else:
    genai = _OnFirstUse("google.genai")
    types = _OnFirstUse("google.genai.types")
    errors = _OnFirstUse("google.genai.errors")
    #: The Interactions client's own error classes (not ``errors.APIError``).
    interactions_errors = _OnFirstUse("google.genai._interactions_errors")
