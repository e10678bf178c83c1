"""gemini_magic: ask Google's Gemini about your data from a Jupyter notebook.

Load it with ``%load_ext gemini_magic``.  That registers the ``%%gemini`` cell magic
and the ``%gemini`` line magic.  Loading is deliberately light: the Gemini SDK,
pandas and pyarrow are imported when the first prompt needs them.
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

    magics = GeminiMagics(shell=ipython)
    ipython.register_magics(magics)
    if magics.session.resumed_note:
        print(magics.session.resumed_note)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """Close the client and any offline emulator the magics started."""
    from gemini_magic.magics import GeminiMagics

    magics = ipython.magics_manager.registry.get(GeminiMagics.__name__)
    if magics is not None:
        magics.close()
