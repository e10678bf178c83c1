"""Run rebound code in the user's IPython shell, as one of their own cells would run.

``%gemini run`` hands the shell the code :func:`gemini_magic.answer.rebind.rebind` made, so its
printed output, its last expression, its traceback and its Matplotlib figures (flushed by
the inline backend after each cell) appear as for a normal cell.  The caller learns which
variables the code defined, to say so, and fails its own cell when the code failed, so a
notebook run stops there.
"""

from __future__ import annotations

from typing import Any

from gemini_magic.answer.rebind import Rebound
from gemini_magic.errors import CodeFailed

__all__ = ["run_rebound"]


def run_rebound(shell: Any, rebound: Rebound) -> list[str]:
    """Run ``rebound.code`` in ``shell``; the names it defined or rebound, in namespace order.

    A name counts when it is new or now holds another object (compared by identity, so a
    mutated frame is not "defined"); names starting with ``_`` are IPython's and the
    rewrite's own captures, and are not listed.  Not stored in the input history: it is
    the magic's cell that the user ran.  Raises :class:`CodeFailed` when the code raised
    (or did not compile).
    """
    before = dict(shell.user_ns)
    result = shell.run_cell(rebound.code, store_history=False)
    defined = [
        name
        for name, value in shell.user_ns.items()
        if not name.startswith("_") and (name not in before or before[name] is not value)
    ]
    error = result.error_before_exec or result.error_in_exec
    if error is not None:
        raise CodeFailed(error, defined) from error
    return defined
