"""pytest plugin for ``pytest --nbval notebooks``: the notebooks run against the emulator.

Why hooks and not a fixture: nbval's cells are plain pytest items that take no
fixtures, and nbval starts each notebook's kernel (from its kernelspec) when the
notebook's first cell runs.  Kernels inherit ``os.environ``, so the emulator is
started and the environment pointed at it when the session starts, before any
kernel exists.  The emulator serves the notebooks' scripted replies
(``notebooks/replies.yaml``) so the stored outputs are reproduced exactly, with no
API key and no network.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPLIES = HERE / "replies.yaml"
DUMMY_KEY = "notebook-test-key"
# Anything that would send a kernel to the real service (GOOGLE_API_KEY wins over
# GEMINI_API_KEY in the SDK; the others switch to Vertex AI), or hide its figures.
REMOVED_VARS = (
    "GOOGLE_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "MPLBACKEND",
)
SET_VARS = ("GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY")

_cleanup = ExitStack()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start the emulator and point every kernel started later at it."""
    from gemini_magic.emulator import Emulator

    replies = REPLIES if REPLIES.exists() else None
    emulator = _cleanup.enter_context(Emulator(replies=replies, host="127.0.0.1", port=0))
    saved = {name: os.environ.get(name) for name in (*REMOVED_VARS, *SET_VARS)}
    _cleanup.callback(_restore, saved)
    for name in REMOVED_VARS:
        os.environ.pop(name, None)
    os.environ.update(GOOGLE_GEMINI_BASE_URL=emulator.url, GEMINI_API_KEY=DUMMY_KEY)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Put the environment back as it was and stop the emulator."""
    _cleanup.close()


def _restore(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
