"""``%gemini run``: an answer's code, run in this kernel on the live objects it was about.

The sandbox ran the model's code on copies of the attachments (``sales.csv``, maybe only a
``--sample`` of the rows).  Here the same code runs on the objects themselves, or on
another object of the same kind (``%gemini run sales=sales_2025``).  This module finds
the answer, has :func:`gemini_magic.answer.runnable.runnable` pick its code (every block
that ran, or ``-n N``) and bind its reads, checks that every variable it will read is
there and of the attached kind, shows the code and runs it with
:func:`gemini_magic.answer.execute.run_rebound`.  Nothing is sent to the service and we write
nothing to disk; the code only ever runs when the user types ``%gemini run``.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from IPython.display import display

from gemini_magic.answer.binding import Binding
from gemini_magic.answer.execute import run_rebound
from gemini_magic.answer.names import check_expression
from gemini_magic.answer.response import GeminiResponse
from gemini_magic.answer.runnable import code_blocks, runnable
from gemini_magic.command.context import Context
from gemini_magic.display.blocks import Notice
from gemini_magic.display.execution import CodeBlock
from gemini_magic.errors import UsageError
from gemini_magic.settings import LAST_RESPONSE_NAME
from gemini_magic.text import count

__all__ = ["HELP", "add_arguments", "run"]

HELP = (
    "Run the code of an answer in this kernel, on the live objects it was about (the "
    "whole frame, even after --sample). Nothing is sent."
)
# argparse expands %(prog)s in a usage (and would choke on a bare percent sign).
_USAGE = "%(prog)s [-n N] [ANSWER] [NAME=VAR ...]"
_USAGE_HINT = "Usage: " + _USAGE % {"prog": "%gemini run"}

# The types a variable must have to stand for an attachment of each binding kind
# (looked up in sys.modules: an object can only be a pandas frame if pandas is loaded).
_TYPES: dict[str, tuple[tuple[str, str], ...]] = {
    "frame": (("pandas", "DataFrame"),),
    "series": (("pandas", "Series"),),
    "polars": (("polars", "DataFrame"),),
    "image": (("PIL.Image", "Image"),),
    "figure": (("matplotlib.figure", "Figure"),),
    "text": (("builtins", "str"),),
    "file": (("builtins", "str"), ("os", "PathLike")),
}
_LABELS = {
    "frame": "a pandas DataFrame",
    "series": "a pandas Series",
    "polars": "a polars DataFrame",
    "image": "a PIL image",
    "figure": "a Matplotlib figure",
    "text": "a str",
    "file": "a path (str or pathlib.Path)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``%gemini run`` (the sub-parser is made in ``command``)."""
    parser.usage = _USAGE
    parser.add_argument(
        "items",
        nargs="*",
        metavar="ANSWER | NAME=VAR",
        help="ANSWER: the variable an answer was kept in with -o (default: the last answer, "
        "_gemini). NAME=VAR: read the attachment NAME (its name in the prompt, like sales, "
        "or its file, sales.csv) from the variable VAR instead, an object of the same kind "
        "(quote it when it has brackets: \"sales=frames['jan']\").",
    )
    parser.add_argument(
        "-n",
        dest="block",
        type=int,
        metavar="N",
        help="Run only the N-th code block of the answer (1-based), even one that failed in "
        "the sandbox. Without -n every block that ran there runs, in order, as one program.",
    )


def run(context: Context, args: argparse.Namespace) -> None:
    """``%gemini run``: check everything, show the code, run it, say what it defined.

    Bad input (no answer, no code, ``-n`` out of range, a binding to a missing or
    mismatched variable) raises before anything is shown or run.
    """
    shell = context.shell
    if shell is None:
        raise UsageError("%gemini run runs code in an IPython shell, and there is none.")
    namespace = shell.user_ns
    name, pairs = _split_items(args.items)
    response, label = _answer(namespace, name)
    blocks = code_blocks(response.parts)
    if not blocks:
        raise UsageError(
            f"{_sentence(label)} has no code to run.",
            hint="The model answered without running code; ask it to compute the answer "
            "with code, then run that.",
        )
    if args.block is not None and not 1 <= args.block <= len(blocks):
        span = "1" if len(blocks) == 1 else f"1 to {len(blocks)}"
        raise UsageError(
            f"{_sentence(label)} has {count(len(blocks), 'code block')}: -n takes {span}, "
            f"not {args.block}.",
            hint="Leave -n out to run every block that ran in the sandbox.",
        )
    bindings, chosen = _rebind_to(response.bindings, pairs, namespace, label)
    rebound = runnable(response.parts, bindings, args.block)
    used = {filename for filename, _ in rebound.bound}
    live = [binding for binding in bindings if used.intersection(binding.filenames)]
    for index, binding in enumerate(bindings):
        if index not in chosen and binding in live:
            _check_live(binding, binding.expression, namespace, chosen=False)

    display(
        CodeBlock(
            rebound.code,
            max_lines=context.settings.max_output_lines,
            max_chars=context.settings.max_output_chars,
        )
    )
    defined = run_rebound(shell, rebound)
    display(Notice(_defined_note(defined, [*response.bindings, *live])))


def _defined_note(defined: Sequence[str], attached: Sequence[Binding]) -> str:
    """``Defined: total, fig``; a variable that held an attached object and that the code
    assigned (``sales = pd.read_csv('sales.csv')``) now holds the code's value: said."""
    if not defined:
        return "Defined no new variables."
    roots = {check_expression(binding.expression)[1] for binding in attached}
    names = [
        f"{name} (replaces your attached object)" if name in roots else name for name in defined
    ]
    return f"Defined: {', '.join(names)}"


def _sentence(label: str) -> str:
    return label[:1].upper() + label[1:]


def _split_items(items: Sequence[str]) -> tuple[str | None, list[tuple[str, str]]]:
    """The answer's name (if given) and the ``NAME=VAR`` pairs, in order."""
    names = [item for item in items if "=" not in item]
    if len(names) > 1:
        raise UsageError(
            f"Name one answer to run, not {len(names)}: {', '.join(names)}.",
            hint=_USAGE_HINT,
        )
    pairs = []
    for item in items:
        if "=" in item:
            reference, _, variable = (piece.strip() for piece in item.partition("="))
            if not reference or not variable:
                raise UsageError(
                    f"`{item}` is not a binding: write NAME=VAR, like sales=sales_2025.",
                    hint=_USAGE_HINT,
                )
            pairs.append((reference, variable))
    return (names[0] if names else None), pairs


def _answer(namespace: Mapping[str, Any], name: str | None) -> tuple[GeminiResponse, str]:
    """The answer to run and how to name it in a message (``the answer `q1```)."""
    key = LAST_RESPONSE_NAME if name is None else name
    value = namespace.get(key)
    if isinstance(value, GeminiResponse):
        return value, "the last answer" if name is None else f"the answer `{name}`"
    kept = [
        k for k, v in namespace.items() if isinstance(v, GeminiResponse) and not k.startswith("_")
    ]
    hint = (
        f"Answers kept here: {', '.join(kept)}."
        if kept
        else "Keep an answer under a name with %%gemini -o NAME."
    )
    if key not in namespace:
        if name is None:
            raise UsageError(
                "There is no answer to run yet.",
                hint="Ask with %%gemini first: %gemini run runs the code of its answer.",
            )
        raise UsageError(f"There is no answer named `{name}`.", hint=hint)
    raise UsageError(f"`{key}` is a {type(value).__name__}, not an answer of %%gemini.", hint=hint)


def _rebind_to(
    bindings: Sequence[Binding],
    pairs: Sequence[tuple[str, str]],
    namespace: Mapping[str, Any],
    label: str,
) -> tuple[tuple[Binding, ...], set[int]]:
    """The answer's bindings with the user's ``NAME=VAR`` applied, each checked against
    the namespace; and the positions of those the user chose."""
    result = list(bindings)
    chosen: dict[int, str] = {}
    for reference, variable in pairs:
        index = _find(bindings, reference, label)
        if index in chosen:
            raise UsageError(
                f"`{reference}` is bound twice: to `{chosen[index]}` and to `{variable}`.",
                hint="Bind each attachment once.",
            )
        expression, _ = check_expression(variable)
        result[index] = dataclasses.replace(bindings[index], expression=expression)
        _check_live(result[index], bindings[index].expression, namespace, chosen=True)
        chosen[index] = variable
    return tuple(result), set(chosen)


def _find(bindings: Sequence[Binding], reference: str, label: str) -> int:
    """Which attachment ``reference`` names: its name in the prompt or one of its files."""
    for index, binding in enumerate(bindings):
        if reference == binding.expression or reference in binding.filenames:
            return index
    if not bindings:
        raise UsageError(
            f"`{reference}` is not an attachment of {label}: it had none.",
            hint="Only frames attached with {name} in the prompt can be bound to a variable.",
        )
    attached = ", ".join(f"{b.expression} ({b.filenames[0]})" for b in bindings)
    raise UsageError(
        f"`{reference}` is not an attachment of {label}.", hint=f"Its attachments: {attached}."
    )


def _check_live(
    binding: Binding, reference: str, namespace: Mapping[str, Any], *, chosen: bool
) -> None:
    """Refuse to run when the variable a file is bound to is missing or of another kind.

    ``chosen``: the user named the variable (``NAME=VAR``); otherwise it is the object the
    attachment was made from, which may have been deleted or reassigned since.
    """
    wanted = _LABELS[binding.kind]
    try:
        value = _lookup(binding.expression, namespace)
    except Exception as error:
        if chosen:
            why = "" if isinstance(error, NameError) else f" ({type(error).__name__}: {error})"
            raise UsageError(
                f"`{binding.expression}` is not defined here{why}.",
                hint=f"Bind `{reference}` to an existing variable holding {wanted}.",
            ) from None
        raise UsageError(
            f"`{reference}` (attached as {binding.filenames[0]}) is not defined here any more.",
            hint=f"Bind the file to another variable: %gemini run {reference}=VAR.",
        ) from None
    if not _is_kind(value, binding.kind):
        was = "" if chosen else " now"
        raise UsageError(
            f"`{binding.expression}` is{was} a {type(value).__name__}, but `{reference}` was "
            f"attached as {wanted}.",
            hint=f"Bind `{reference}` to {wanted}: the code was written for one.",
        )


def _lookup(expression: str, namespace: Mapping[str, Any]) -> Any:
    """The value of a checked reference (``a``, ``a.b``, ``a['k']``), without ``eval``."""
    node = ast.parse(expression, mode="eval").body
    if isinstance(node, ast.Name):
        if node.id not in namespace:
            raise NameError(node.id)
        return namespace[node.id]
    if isinstance(node, ast.Attribute):
        return getattr(_lookup(ast.unparse(node.value), namespace), node.attr)
    assert isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
    return _lookup(ast.unparse(node.value), namespace)[node.slice.value]


def _is_kind(value: Any, kind: str) -> bool:
    for module, name in _TYPES[kind]:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and isinstance(value, cls):
            return True
    return False
