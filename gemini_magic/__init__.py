"""gemini_magic: ask Google's Gemini about your data from a Jupyter notebook.

Load it with ``%load_ext gemini_magic``.  That registers the ``%%gemini`` cell magic
and the ``%gemini`` line magic.  Loading is deliberately light: the Gemini SDK,
pandas and pyarrow are imported by a background warm-up it starts
(``gemini_magic.warmup``), not while ``%load_ext`` runs.

The names users keep are importable from here, whichever subpackage holds them:
``from gemini_magic import GeminiMagics, GeminiResponse, GeminiMagicError``.  They are
looked up on first use (PEP 562), so ``import gemini_magic`` stays as light as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

__version__ = "0.1.0"

#: Public name -> the module that holds it (imported when the name is first read).
_PUBLIC = {
    "GeminiMagics": "gemini_magic.magics",
    "GeminiResponse": "gemini_magic.answer.response",
    "GeminiMagicError": "gemini_magic.errors",
    "UsageError": "gemini_magic.errors",
    "ReferenceNotFound": "gemini_magic.errors",
    "AttachmentError": "gemini_magic.errors",
    "FileAttachmentError": "gemini_magic.errors",
    "ConfigurationError": "gemini_magic.errors",
    "HistoryError": "gemini_magic.errors",
    "GeminiAPIError": "gemini_magic.errors",
    "GeminiTimeoutError": "gemini_magic.errors",
    "GeminiConnectionError": "gemini_magic.errors",
    "CodeFailed": "gemini_magic.errors",
}
__all__ = ["__version__", "load_ipython_extension", "unload_ipython_extension", *_PUBLIC]


def __getattr__(name: str) -> object:
    """``gemini_magic.GeminiResponse`` and the rest of ``_PUBLIC``, imported on first use."""
    if name not in _PUBLIC:
        raise AttributeError(f"module 'gemini_magic' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(_PUBLIC[name]), name)


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register ``%%gemini`` / ``%gemini`` with ``ipython`` (called by ``%load_ext``)."""
    from gemini_magic.magics import GeminiMagics

    unload_ipython_extension(ipython)  # an instance left by an earlier load, if any
    magics = GeminiMagics(shell=ipython)
    ipython.register_magics(magics)
    magics.warm_up()  # in the background: the first prompt then costs what later ones do
    if magics.session is not None and magics.session.resumed_note:
        print(magics.session.resumed_note)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """Undo the load: events, ``%config`` entry, client and any offline emulator.

    ``%reload_ext`` calls this and then :func:`load_ipython_extension`, so exactly one
    ``GeminiMagics`` stays in ``shell.configurables`` (and ``%config`` reaches it).
    """
    from gemini_magic.magics import GeminiMagics

    magics = ipython.magics_manager.registry.pop(GeminiMagics.__name__, None)
    if magics is not None:
        magics.close()
