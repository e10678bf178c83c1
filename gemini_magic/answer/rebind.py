"""Bind the file reads of the model's sandbox code to the user's live objects.

The sandbox ran the model's code on copies of the attachments, under the names the model
was told (``sales.csv``, ``input_file_0.csv``).  Here that code is made to run in the
user's kernel: every read of such a name is rewritten, on the syntax tree (stdlib ``ast``,
never text replacement), into an expression over the live object, so the analysis runs on
all the rows after a ``--sample`` and on another object for ``%gemini run sales=sales_2025``.
Nothing is written to disk: a read that needs the file's text gets it in memory.

This module is pure (no IPython, no pandas): :func:`rebind` turns code and
:class:`~gemini_magic.answer.binding.Binding` values into :class:`Rebound` code;
``names`` reads what the code's names refer to, ``reads`` holds what each kind of read
becomes, and ``execute`` runs the result in the shell.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

from gemini_magic.answer.binding import Binding
from gemini_magic.answer.names import CodeNames, check_expression
from gemini_magic.answer.reads import ReadRewriter
from gemini_magic.errors import UsageError

__all__ = ["Binding", "Rebound", "check_expression", "rebind"]

HEADER = "# gemini-magic:"


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
