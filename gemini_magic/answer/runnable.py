"""The code of an answer as it runs here: its blocks, and which of them to run.

The sandbox ran the model's code on copies of the attachments.  :func:`runnable` picks
the blocks to run in this kernel (every block that ran, or one by number) and binds
their reads of the attached files to the live objects with
:func:`gemini_magic.answer.rebind.rebind`.  ``%gemini run`` runs the result, ``-x``
inserts it and :attr:`GeminiResponse.runnable_code` holds it.  The functions take the
answer's parts and bindings, not the answer object, so the answer can use them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import NamedTuple

from gemini_magic.answer.binding import Binding
from gemini_magic.answer.rebind import HEADER, Rebound, rebind
from gemini_magic.api.sdk import types
from gemini_magic.errors import UsageError
from gemini_magic.text import OUTCOME_OK, outcome_name

__all__ = ["CodeRun", "code_blocks", "runnable", "runnable_code"]


class CodeRun(NamedTuple):
    """One code block of an answer and whether the sandbox ran it without an error."""

    code: str
    ran_ok: bool


def code_blocks(parts: Sequence[types.Part]) -> list[CodeRun]:
    """The answer's code blocks in order, each with the outcome of the run that followed it."""
    blocks: list[CodeRun] = []
    for part in parts:
        if part.thought:
            continue
        if part.executable_code is not None:
            blocks.append(CodeRun(part.executable_code.code or "", True))
        elif part.code_execution_result is not None and blocks:
            outcome = outcome_name(part.code_execution_result.outcome)
            blocks[-1] = blocks[-1]._replace(ran_ok=outcome == OUTCOME_OK)
    return blocks


def runnable(
    parts: Sequence[types.Part], bindings: Sequence[Binding], block: int | None = None
) -> Rebound:
    """The code to run here: the ``block``-th block (1-based), or every block that ran.

    A block that failed in the sandbox was usually followed by the model's corrected one,
    so it is left out (and the header says so); when every block failed they all run.
    ``bindings`` say which variable each attached file is read from.  The answer must
    have code and ``block`` be in range; raises UsageError for code that does not parse.
    """
    blocks = code_blocks(parts)
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
    rebound = rebind("\n\n".join(chosen), bindings)
    if note is None:
        return rebound
    lines = rebound.code.split("\n")
    after_header = next(i for i, line in enumerate(lines) if not line.startswith(HEADER))
    lines.insert(after_header, note)
    return dataclasses.replace(rebound, code="\n".join(lines))


def runnable_code(parts: Sequence[types.Part], bindings: Sequence[Binding]) -> str | None:
    """What ``-x`` inserts and ``GeminiResponse.runnable_code`` holds (None: no code).

    Code that does not parse in this Python (newer syntax than the sandbox's) is given as
    the sandbox ran it, its header saying why, so the user still gets it to fix.
    """
    blocks = code_blocks(parts)
    if not blocks:
        return None
    try:
        return runnable(parts, bindings).code
    except UsageError as error:
        why = " ".join(error.message.split())
        return f"{HEADER} not rewritten: {why}\n" + "\n\n".join(run.code for run in blocks) + "\n"
