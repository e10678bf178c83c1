"""``%gemini run``: an answer's code, run in this kernel on the live objects it was about.

The sandbox ran the model's code on copies of the attachments (``sales.csv``, maybe only a
``--sample`` of the rows).  Here the same code runs on the objects themselves, or on
another object of the same kind (``%gemini run sales=sales_2025``).  This module picks the
code (every block that ran, or ``-n N``), binds its reads with
:func:`gemini_magic.answer.rebind.rebind`, checks that every variable it will read is there and
of the attached kind, shows the code and runs it with
:func:`gemini_magic.answer.execute.run_rebound`.  Nothing is sent to the service and we write
nothing to disk; the code only ever runs when the user types ``%gemini run``.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from gemini_magic.answer.execute import run_rebound
from gemini_magic.answer.rebind import HEADER, Binding, Rebound, check_expression, rebind
from gemini_magic.display.blocks import Notice
from gemini_magic.display.execution import CodeBlock
from gemini_magic.errors import UsageError
from gemini_magic.settings import LAST_RESPONSE_NAME
from gemini_magic.text import OUTCOME_OK, code_language, count, outcome_name

if TYPE_CHECKING:
    import argparse

    from traitlets import HasTraits

    from gemini_magic.answer.response import GeminiResponse
    from gemini_magic.session import GeminiSession

__all__ = ["HELP", "CodeRun", "add_arguments", "code_blocks", "run", "runnable", "runnable_code"]

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
    """The options of ``%gemini run`` (the sub-parser is made in ``commands``)."""
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


class CodeRun(NamedTuple):
    """One code block of an answer, whether the sandbox ran it without an error, and its
    language (``python``, or ``bash`` for a shell step of the Interactions API)."""

    code: str
    ran_ok: bool
    language: str = "python"


def code_blocks(response: GeminiResponse) -> list[CodeRun]:
    """The answer's code blocks in order, each with the outcome of the run that followed it."""
    blocks: list[CodeRun] = []
    for part in response.parts:
        if part.thought:
            continue
        if part.executable_code is not None:
            code = part.executable_code
            blocks.append(CodeRun(code.code or "", True, code_language(code.language)))
        elif part.code_execution_result is not None and blocks:
            outcome = outcome_name(part.code_execution_result.outcome)
            blocks[-1] = blocks[-1]._replace(ran_ok=outcome == OUTCOME_OK)
    return blocks


def runnable(
    response: GeminiResponse, block: int | None = None, bindings: Sequence[Binding] | None = None
) -> Rebound:
    """The code to run here: the ``block``-th block (1-based), or every block that ran.

    A block that failed in the sandbox was usually followed by the model's corrected one,
    so it is left out (and the header says so); when every block failed they all run.
    ``bindings`` default to the answer's own.  The answer must have code and ``block`` be
    in range; raises UsageError for code that does not parse.
    """
    blocks = code_blocks(response)
    picked = [block] if block is not None else [n for n, run in enumerate(blocks, 1) if run.ran_ok]
    for number in picked or range(1, len(blocks) + 1):
        language = blocks[number - 1].language
        if language != "python":
            others = [n for n, run in enumerate(blocks, 1) if run.language == "python"]
            hint = f"`%gemini run -n {others[0]}` runs a Python block." if others else None
            raise UsageError(
                f"Block {number} of the answer is {language.capitalize()}, not Python: "
                "%gemini run runs Python only; nothing was run.",
                hint=hint or "Run the shell commands yourself if you trust them.",
            )
    if block is not None:
        chosen = [blocks[block - 1].code]
        note = f"{HEADER} block {block} of {len(blocks)} only" if len(blocks) > 1 else None
    else:
        failed = [number for number, run in enumerate(blocks, 1) if not run.ran_ok]
        ran = [run.code for run in blocks if run.ran_ok]
        chosen = ran or [run.code for run in blocks]
        note = None
        if failed and ran:
            listed = ", ".join(map(str, failed))
            note = (
                f"{HEADER} left out {'blocks' if len(failed) > 1 else 'block'} {listed}: "
                f"failed in the sandbox (-n {failed[0]} runs one)"
            )
        elif failed:
            note = f"{HEADER} this code failed in the sandbox: it may fail here too"
    rebound = rebind("\n\n".join(chosen), response.bindings if bindings is None else bindings)
    if note is None:
        return rebound
    lines = rebound.code.split("\n")
    after_header = next(i for i, line in enumerate(lines) if not line.startswith(HEADER))
    lines.insert(after_header, note)
    return dataclasses.replace(rebound, code="\n".join(lines))


def runnable_code(response: GeminiResponse) -> str | None:
    """What ``-x`` inserts and ``GeminiResponse.runnable_code`` holds (None: no code).

    Code that does not parse in this Python (newer syntax than the sandbox's) is given as
    the sandbox ran it, its header saying why, so the user still gets it to fix.
    """
    blocks = code_blocks(response)
    if not blocks:
        return None
    try:
        return runnable(response).code
    except UsageError as error:
        why = " ".join(error.message.split())
        return f"{HEADER} not rewritten: {why}\n" + "\n\n".join(run.code for run in blocks) + "\n"


def run(session: GeminiSession, configurable: HasTraits, args: argparse.Namespace) -> None:
    """``%gemini run``: check everything, show the code, run it, say what it defined.

    Bad input (no answer, no code, ``-n`` out of range, a binding to a missing or
    mismatched variable) raises before anything is shown or run.
    """
    shell = configurable.shell  # type: ignore[attr-defined]
    namespace = shell.user_ns
    name, pairs = _split_items(args.items)
    response, label = _answer(namespace, name)
    blocks = code_blocks(response)
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
    rebound = runnable(response, args.block, bindings)
    used = {filename for filename, _ in rebound.bound}
    live = [binding for binding in bindings if used.intersection(binding.filenames)]
    for index, binding in enumerate(bindings):
        if index not in chosen and binding in live:
            _check_live(binding, binding.expression, namespace, chosen=False)

    from IPython.display import display

    display(
        CodeBlock(
            rebound.code,
            max_lines=configurable.max_output_lines,  # type: ignore[attr-defined]
            max_chars=configurable.max_output_chars,  # type: ignore[attr-defined]
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
    from gemini_magic.answer.response import GeminiResponse

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
