"""The kernel's last exception, for ``--error``: "why did this fail? fix it".

:func:`last_error_from` reads what IPython keeps of the last error it showed
(``sys.last_value``, set by ``InteractiveShell.showtraceback``): its type and message, the
traceback as plain text (stdlib formatting, so no ANSI colours; IPython's own frames above
the cell left out, cells named ``Cell In[5]`` as IPython names them, the home folder as
``~``), and the source of the cell that raised, from the cache IPython fills for every cell
it compiles (``linecache``).

It is sent as a text file (``last_error.txt``) rather than pasted into the prompt: it goes
through the same caps, ``Sent:`` line and upload cache as every attachment, the prompt stays
the user's own words, and the sandbox can read the failing cell's code from it.
"""

from __future__ import annotations

import linecache
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gemini_magic.errors import GeminiMagicError, UsageError
from gemini_magic.inputs.attachment import Attachment, content_digest
from gemini_magic.text import human_size

__all__ = ["ErrorAttachment", "LastError", "error_attachment", "last_error_from"]

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_FILENAME = "last_error.txt"


@dataclass(frozen=True)
class LastError:
    """One exception as the model is told about it.

    ``type_name`` is qualified outside builtins (``pandas.errors.ParserError``);
    ``cell_label`` is IPython's name for the cell that raised (``In[5]``) and
    ``cell_source`` its code, both None when the error did not come from a cell.
    """

    type_name: str
    message: str
    traceback: str
    cell_label: str | None = None
    cell_source: str | None = None

    @property
    def headline(self) -> str:
        """``ZeroDivisionError: division by zero``."""
        return f"{self.type_name}: {self.message}" if self.message else self.type_name

    def as_text(self) -> str:
        """The content of ``last_error.txt``."""
        parts = [self.headline, "", self.traceback.rstrip()]
        if self.cell_source is not None:
            parts += ["", f"Source of the cell {self.cell_label} that raised:", self.cell_source]
        return "\n".join(parts).rstrip() + "\n"


@dataclass(frozen=True, kw_only=True)
class ErrorAttachment(Attachment):
    """The last error as ``last_error.txt`` (``kind="error"``)."""

    error: LastError

    def describe(self) -> str:
        """The error's headline, where it came from, and what the file holds."""
        where = f", from cell {self.error.cell_label}" if self.error.cell_label else ""
        source = " and the source of that cell" if self.error.cell_source is not None else ""
        return (
            f"The file `{self.filename}` holds the last error raised in the user's notebook: "
            f"`{self.error.headline}`{where}. It has the traceback{source} as plain text.\n"
            + self.in_sandbox(f"read it with open('{self.filename}')")
        )

    def summary(self) -> str:
        """``last_error.txt (error: ZeroDivisionError, 1.1 kB)``."""
        return f"{self.filename} (error: {self.error.type_name}, {human_size(len(self.data))})"


def error_attachment(error: LastError) -> ErrorAttachment:
    """``error`` as the attachment ``last_error.txt``."""
    data = error.as_text().encode("utf-8", errors="backslashreplace")
    return ErrorAttachment(
        name="--error",
        filename=_FILENAME,
        data=data,
        mime_type="text/plain",
        digest=content_digest(data),
        kind="error",
        value_type=error.type_name,
        error=error,
    )


def last_error_from(shell: Any) -> LastError:
    """The last exception IPython showed in ``shell``, or UsageError when there was none.

    gemini_magic's own errors are refused rather than attached: after a failed ``%%gemini``
    the user's own error is the one worth asking about, and it is no longer the last.
    """
    error = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    if error is None:
        raise UsageError(
            "No error has happened yet in this kernel: --error has nothing to attach.",
            hint="Run the cell that fails first, then ask with `%%gemini --error`.",
        )
    if isinstance(error, GeminiMagicError):
        raise UsageError(
            f"The last error was gemini_magic's own ({type(error).__name__}), not one raised "
            "by your code: --error attaches only those.",
            hint="Run the cell that fails again, then ask with `%%gemini --error`.",
        )
    labels = _CellLabels(shell)
    tb = error.__traceback__
    start = tb
    while start is not None and labels(start.tb_frame.f_code.co_filename) is None:
        start = start.tb_next  # IPython's own frames above the first cell
    if start is not None:
        cell_file: str | None = start.tb_frame.f_code.co_filename
    elif isinstance(error, SyntaxError):  # the cell never ran: its frames are IPython's
        cell_file, tb = error.filename, None
    else:
        cell_file = None
    text = "".join(traceback.format_exception(type(error), error, start or tb))
    text = re.sub(r'File "([^"]+)"', lambda m: labels.shown(m.group(1)), text)
    label = labels(cell_file) if cell_file else None
    kind = type(error)
    return LastError(
        type_name=kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}",
        message=_plain(str(error)),
        traceback=_plain(text),
        cell_label=label,
        cell_source="".join(linecache.getlines(cell_file)) if label and cell_file else None,
    )


def _plain(text: str) -> str:
    """``text`` without ANSI colours, and with the home folder as ``~`` (its name stays here)."""
    return _ANSI.sub("", text).replace(str(Path.home()), "~")


class _CellLabels:
    """IPython's name for a cell's code file (``In[5]``), or None for any other file."""

    def __init__(self, shell: Any) -> None:
        self._format = getattr(getattr(shell, "compile", None), "format_code_name", None)

    def __call__(self, filename: str) -> str | None:
        named = self._format(filename) if self._format is not None else None
        return named[1] if named else None

    def shown(self, filename: str) -> str:
        """How a traceback line names the file: ``Cell In[5]`` for a cell."""
        label = self(filename)
        return f"Cell {label}" if label else f'File "{filename}"'
