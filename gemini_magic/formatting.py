"""Small text helpers shared by the display, the attachments and the commands.

One place for how a size or a count reads, so the ``Sent:`` line, a folded output and an
error message never disagree about what "5.2 kB" means.
"""

from __future__ import annotations


def human_size(n_bytes: int | float) -> str:
    """Decimal units, as file managers show them: ``512 B``, ``5.2 kB``, ``3.4 MB``."""
    if n_bytes < 1_000:
        return f"{int(n_bytes)} B"
    if n_bytes < 1e6:
        return f"{n_bytes / 1e3:.1f} kB"
    if n_bytes < 1e9:
        return f"{n_bytes / 1e6:.1f} MB"
    return f"{n_bytes / 1e9:.1f} GB"


def count(n: int, noun: str) -> str:
    """``1 row``, ``1,200 rows``: a number with its noun, plural when it is not one."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
