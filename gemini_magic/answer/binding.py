"""Which live object each file attached to a prompt stands for, when its code runs here.

The sandbox read the attachments as files (``sales.csv``, ``input_file_0.csv``); a
:class:`Binding` ties those names to a reference in the user's namespace (``sales``) and
the kind of object it holds, so :func:`gemini_magic.answer.rebind.rebind` can rewrite the
code's reads of the files into reads of the objects.  A value of its own, so the answer
can keep its bindings and the rewrite of reads can use them, neither importing the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from gemini_magic.answer.names import check_expression
from gemini_magic.errors import UsageError
from gemini_magic.inputs.attachment import Attachment

__all__ = ["KINDS", "Binding"]

#: The kinds of live object a file can be bound to.
KINDS = ("frame", "series", "polars", "image", "figure", "file", "text")

#: Attachment kinds and the binding kind of the live object each was made from.
_BINDING_KINDS = {"frame": "frame", "image": "image", "figure": "figure", "file": "file"}
_BINDING_KINDS["document"] = "file"


@dataclass(frozen=True)
class Binding:
    """One attachment as the sandbox knew it, and the live object it stands for now.

    ``filenames`` are every name the model may have used for the file (``sales.csv`` and
    its ``input_file_N.csv``); ``expression`` is a reference in the user's namespace
    (``sales``, ``frames['jan']``); ``kind`` is one of ``KINDS``: ``frame`` (pandas
    DataFrame), ``series`` (pandas Series: its file was a one-column table), ``polars``,
    ``image`` (PIL Image), ``figure`` (Matplotlib Figure, sent as PNG), ``file`` (a path to
    a file on disk) or ``text`` (a str).  ``index`` says the CSV began with the index as
    columns (``Attachment.index_columns > 0``), so the live frame is read the same way.
    """

    filenames: tuple[str, ...]
    expression: str
    kind: str = "frame"
    index: bool = False

    def __post_init__(self) -> None:
        """Refuse a binding that could not be substituted safely, before any rewrite."""
        check_expression(self.expression)
        if self.kind not in KINDS:
            raise UsageError(
                f"Unknown binding kind {self.kind!r} for `{self.expression}`.",
                hint=f"Use one of: {', '.join(KINDS)}.",
            )
        if not self.filenames:
            raise UsageError(f"The binding of `{self.expression}` names no file.")
        for filename in self.filenames:
            if not re.fullmatch(r"[^/\\]+", filename):
                raise UsageError(
                    f"`{filename}` is not a file name: bind a plain name like `sales.csv`."
                )

    @classmethod
    def for_attachment(
        cls, attachment: Attachment, position: int, expression: str | None = None
    ) -> Binding | None:
        """The binding of an attachment that was sent ``position``-th (from 0), or None
        for one with no live object to bind (a ``-f`` file, the last error).

        ``expression`` defaults to the attachment's own name, i.e. the object it was made
        from; pass another for ``%gemini run sales=sales_2025``.
        """
        kind = _BINDING_KINDS.get(attachment.kind)
        if kind is None or attachment.value_type is None:
            return None
        if kind == "frame":
            kind = {"pandas.Series": "series", "polars.DataFrame": "polars"}.get(
                attachment.value_type, "frame"
            )
        own, numbered = attachment.sandbox_names
        return cls(
            filenames=(own, f"input_file_{position}{PurePath(numbered).suffix}"),
            expression=attachment.name if expression is None else expression,
            kind=kind,
            index=getattr(attachment, "index_columns", 0) > 0,
        )
