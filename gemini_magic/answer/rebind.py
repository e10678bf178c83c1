"""Bind the file reads of the model's sandbox code to the user's live objects.

The sandbox ran the model's code on copies of the attachments, under the names the model
was told (``sales.csv``, ``input_file_0.csv``).  Here that code is made to run in the
user's kernel: every read of such a name is rewritten, on the syntax tree (stdlib ``ast``,
never text replacement), into an expression over the live object, so the analysis runs on
all the rows after a ``--sample`` and on another object for ``%gemini run sales=sales_2025``.
Nothing is written to disk: a read that needs the file's text gets it in memory.

This module is pure (no IPython, no pandas): :func:`rebind` turns code and bindings into
:class:`Rebound` code; ``code_names`` reads what the code's names refer to,
``rebind_reads`` holds what each kind of read becomes, and ``rebind_run`` runs the result
in the shell.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from gemini_magic.answer.names import CodeNames, check_expression
from gemini_magic.answer.reads import KINDS, ReadRewriter
from gemini_magic.errors import UsageError
from gemini_magic.inputs.attachment import Attachment

__all__ = [
    "Binding",
    "Rebound",
    "binding_record",
    "check_expression",
    "conversation_bindings",
    "rebind",
]

HEADER = "# gemini-magic:"


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


def binding_record(binding: Binding, position: int) -> dict[str, Any]:
    """How a turn keeps a binding in the conversation (and its history file): the file's
    own name, its place among the turn's files and its suffix, and the live object."""
    own, numbered = binding.filenames[0], binding.filenames[-1]
    return {
        "filename": own,
        "position": position,
        "suffix": PurePath(numbered).suffix,
        "expression": binding.expression,
        "kind": binding.kind,
        "index": binding.index,
    }


def conversation_bindings(
    turns: Sequence[tuple[Sequence[Mapping[str, Any]], int]],
) -> tuple[Binding, ...]:
    """Every file a conversation attached so far, bound by both of its names.

    ``turns`` are, oldest first, each turn's binding records and how many files it sent:
    the sandbox keeps a conversation's files and numbers them in the order they came
    (``input_file_0``, ``input_file_1``, ... across turns), on both APIs.  A file's own
    name attached again in a later turn means the later file (the one the model saw
    last); its number always means its own file.
    """
    numbered: list[tuple[str, str, Mapping[str, Any]]] = []
    offset = 0
    for records, sent in turns:
        for record in records:
            number = f"input_file_{offset + int(record['position'])}{record['suffix']}"
            numbered.append((str(record["filename"]), number, record))
        offset += sent
    claimed: set[str] = set()
    bindings: list[Binding] = []
    for own, number, record in reversed(numbered):
        names = (number,) if own in claimed or own == number else (own, number)
        claimed.add(own)
        bindings.append(
            Binding(
                filenames=names,
                expression=str(record["expression"]),
                kind=str(record["kind"]),
                index=bool(record.get("index")),
            )
        )
    return tuple(reversed(bindings))


@dataclass(frozen=True)
class Rebound:
    """Code ready to run in the kernel, and what was (not) bound in it.

    ``code`` starts with the header line ``# gemini-magic: sales.csv -> sales (the whole
    DataFrame); ...``; a second header line lists the reads left as they are.
    ``bound`` holds the ``(filename, expression)`` pairs actually bound (the expression as
    it stands in the code, e.g. without a comment the user typed), ``unbound`` the
    paths of reads left alone (a file the model wrote itself, a name never attached),
    each once, in order of appearance.  ``writes`` lists the constant paths the code
    writes to (``df.to_csv('out.csv')``, ``plt.savefig('chart.png')``, ``open(p, 'w')``):
    run here, it writes them in the user's working folder, so a third header line warns.
    """

    code: str
    bound: tuple[tuple[str, str], ...]
    unbound: tuple[str, ...]
    writes: tuple[str, ...] = ()


def rebind(code: str, bindings: Sequence[Binding]) -> Rebound:
    """Rewrite every read of a bound file name in ``code`` into a read of the live object.

    Raises UsageError for code that does not parse or a file name bound twice.  Code with
    nothing to bind comes back unchanged, comments included; otherwise ``ast.unparse``
    drops the comments.
    """
    by_name = _by_filename(bindings)
    tree = _parse(code)
    rewriter = ReadRewriter(CodeNames(tree), by_name)
    new_tree = rewriter.rewrite(tree)
    body = ast.unparse(new_tree) if rewriter.bound else code.strip("\n")
    header = _header(rewriter.bound, rewriter.unbound, rewriter.writes, by_name)
    return Rebound(
        code=header + "\n" + body + "\n",
        bound=tuple(rewriter.bound),
        unbound=tuple(rewriter.unbound),
        writes=tuple(rewriter.writes),
    )


_DESCRIPTIONS = {
    "frame": "the whole DataFrame",
    "series": "the whole Series",
    "polars": "the whole polars DataFrame",
    "image": "the image",
    "figure": "the figure, as PNG",
    "file": "the file on disk",
    "text": "the text",
}


def _header(
    bound: list[tuple[str, str]],
    unbound: dict[str, str],
    writes: list[str],
    by_name: dict[str, Binding],
) -> str:
    """A line saying what is bound to what; lines for the reads left and the files written."""
    names: dict[str, list[str]] = {}
    for filename, expression in bound:
        names.setdefault(expression, []).append(filename)
    if bound:
        pairs = "; ".join(
            f"{', '.join(files)} -> {expression} ({_DESCRIPTIONS[by_name[files[0]].kind]})"
            for expression, files in names.items()
        )
    else:
        pairs = "no read of an attached file to bind"
    lines = [f"{HEADER} {pairs}"]
    if unbound:
        left = "; ".join(f"{path} ({why})" for path, why in unbound.items())
        lines.append(f"{HEADER} left as is: {left}")
    if writes:
        lines.append(f"{HEADER} writes to files here: {', '.join(writes)}")
    return "\n".join(lines)


def _parse(code: str) -> ast.Module:
    try:
        return ast.parse(code)
    except SyntaxError as error:
        line = (error.text or "").strip()
        shown = f": `{line}`" if line else ""
        raise UsageError(
            f"The answer's code does not parse: {error.msg} on line {error.lineno}{shown}.",
            hint="Nothing was run. Ask the model to correct the code, or run the cells "
            "you trust by hand.",
        ) from None


def _by_filename(bindings: Sequence[Binding]) -> dict[str, Binding]:
    """Bindings by file name; a name bound to two objects is refused."""
    by_name: dict[str, Binding] = {}
    for binding in bindings:
        for filename in binding.filenames:
            other = by_name.setdefault(filename, binding)
            if other is not binding and other != binding:
                raise UsageError(
                    f"`{filename}` is bound twice: to `{other.expression}` and to "
                    f"`{binding.expression}`.",
                    hint="Bind each attached file once.",
                )
    return by_name
