"""What a ``%gemini`` command is handed: the settings as a value, the shell, one setter.

The magic owns the traits; a command never sees the Magics object.  It reads the
settings from a frozen :class:`Configured` taken when the command starts, and changes
one only through :attr:`Context.set_option`, which sets the trait as ``%config`` would
(so the magic's observers reconnect the session, and ``%config`` shows the new value).
The panel follows later changes through :attr:`Context.watch_option`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from IPython.core.interactiveshell import InteractiveShell

from gemini_magic.session import GeminiSession


@dataclass(frozen=True)
class Configured:
    """The traits the commands read (``%config GeminiMagics``), when the command began."""

    model: str
    api: str
    store: bool
    thinking_level: str
    temperature: float | None
    system_instruction: str
    stream: bool
    offline: bool
    timeout: float
    max_retries: int
    max_attachment_bytes: int
    upload_threshold: int
    context_cache: bool
    history_file: str
    max_output_lines: int
    max_output_chars: int


#: Sets the named trait, as ``%config GeminiMagics.NAME = VALUE`` would.
SetOption = Callable[[str, Any], None]
#: Calls back with the named trait's new value whenever it changes.
WatchOption = Callable[[str, Callable[[Any], None]], None]


@dataclass(frozen=True)
class Context:
    """One ``%gemini`` command's world, made by the magic for that command."""

    session: GeminiSession
    settings: Configured
    #: The IPython shell (None outside one): its namespace, and whether a kernel runs it.
    shell: InteractiveShell | None
    set_option: SetOption
    watch_option: WatchOption
