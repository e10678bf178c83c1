"""How the Gemini kernel reads a cell: prompt, plain Python, or IPython as usual.

Kept apart from the kernel class and free of IPython so the rules a user relies on
(which cells go to Gemini) are stated once and tested directly.

The rules, on the cell's first line:

* empty cell (only whitespace)            -> nothing to run
* first line is exactly ``%%py``          -> the rest is Python, run in the kernel's namespace
* first line starts with ``%`` or ``!``   -> IPython runs the cell as it would anywhere
  (``%%gemini --model X``, ``%gemini reset``, ``%matplotlib``, ``!ls``, ...)
* anything else                           -> a prompt for ``%%gemini``

A prompt that must begin with ``%`` or ``!`` is written with an empty first line.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

PY_ESCAPE = "%%py"
GEMINI_CELL_MAGIC = "%%gemini"


class CellKind(enum.Enum):
    """What the kernel does with a cell."""

    EMPTY = "empty"
    PROMPT = "prompt"
    PYTHON = "python"
    IPYTHON = "ipython"


@dataclass(frozen=True)
class Cell:
    """A routed cell: its kind, the code to hand on, and where that code starts in the cell.

    ``offset`` is the index in the original cell of ``body[0]``; completion uses it to
    map cursor positions between the cell the front end sees and the code IPython sees.
    """

    kind: CellKind
    body: str
    offset: int = 0


def route(code: str) -> Cell:
    """Classify ``code`` by the rules in the module docstring."""
    if not code.strip():
        return Cell(CellKind.EMPTY, code)
    first_line, newline, _rest = code.partition("\n")
    head = first_line.strip()
    if head == PY_ESCAPE:
        offset = len(first_line) + len(newline)
        return Cell(CellKind.PYTHON, code[offset:], offset)
    if first_line.lstrip().startswith(("%", "!")):
        return Cell(CellKind.IPYTHON, code)
    return Cell(CellKind.PROMPT, code)


def strip_py_escape(lines: list[str]) -> list[str]:
    """IPython input transformer: drop a first line ``%%py`` so the rest runs as Python.

    Registered as a cleanup transformer of the kernel's shell rather than applied in
    ``do_execute`` so that the history keeps the cell as typed (``%%py`` included):
    recalling or re-running it from the history then runs Python again, not a prompt.
    IPython's checks expect at least one line, so an empty body becomes an empty line.
    """
    if lines and lines[0].strip() == PY_ESCAPE:
        return lines[1:] or ["\n"]
    return lines


def as_gemini_cell(prompt: str) -> str:
    """The ``%%gemini`` cell that sends ``prompt``: kernel prompts and the magic share one path."""
    return f"{GEMINI_CELL_MAGIC}\n{prompt}"


def prompt_span(code: str) -> int | None:
    """Where the prompt text starts in ``code``, or None when ``code`` holds no prompt.

    A plain cell is a prompt from its first character; a ``%%gemini ...`` cell carries
    its prompt after the first line.
    """
    cell = route(code)
    if cell.kind is CellKind.PROMPT:
        return 0
    first_line, newline, _rest = code.partition("\n")
    if newline and first_line.lstrip().split(maxsplit=1)[:1] == [GEMINI_CELL_MAGIC]:
        return len(first_line) + 1
    return None


# An unclosed "{" followed by the start of an identifier, right before the cursor.  A
# doubled "{{" is a literal brace, not a reference, so it does not count.
_OPEN_REFERENCE = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)?\Z")


def open_reference(text_before_cursor: str) -> str | None:
    """The partial name of a ``{name}`` reference the cursor is in, or None.

    ``"Plot {d"`` gives ``"d"``, ``"Plot {"`` gives ``""``, ``"Plot {df} and"`` gives None.
    """
    match = _OPEN_REFERENCE.search(text_before_cursor)
    if match is None:
        return None
    return match.group(1) or ""
