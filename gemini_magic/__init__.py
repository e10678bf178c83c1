"""gemini_magic: ask Google's Gemini about your data from a Jupyter notebook.

Load it with ``%load_ext gemini_magic``.  That registers the ``%%gemini`` cell magic
and the ``%gemini`` line magic.  Loading is deliberately light: the Gemini SDK,
pandas and pyarrow are imported by a background warm-up it starts
(``gemini_magic.warmup``), not while ``%load_ext`` runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

__version__ = "0.1.0"
__all__ = ["__version__", "load_ipython_extension", "unload_ipython_extension"]


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
