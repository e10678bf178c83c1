"""An offline emulator of the Gemini REST API, with real code execution.

A reader of the ``%%gemini`` magic can skip this package: it is the *server* side
that tests (and the magic's offline mode) point the real google-genai SDK at::

    from gemini_magic.emulator import Emulator

    with Emulator() as emu:        # GOOGLE_GEMINI_BASE_URL=emu.url, GEMINI_API_KEY=emu.key
        ...

Importing it is cheap (stdlib only): pandas and Matplotlib are imported only by the
sandbox subprocess that runs a reply's code.  See README.md beside this file.
"""

from __future__ import annotations

from gemini_magic.emulator.service import OFFLINE_MARK, Emulator
from gemini_magic.emulator.wire.log import LoggedRequest

__all__ = ["OFFLINE_MARK", "Emulator", "LoggedRequest"]
