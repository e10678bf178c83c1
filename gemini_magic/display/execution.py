"""The code the model ran and what it printed, as two blocks a reader tells apart.

Each is a labelled box: the code ("Python") shaded, its output ("Output") with a rule
on the left, a failure labelled with its outcome in the error colour.  The box is a
little HTML of ours around a Markdown fence, so the front end still highlights the
code as it does any fenced block; it is plain HTML and CSS (inline ``style=``, no
script), with JupyterLab's CSS variables so that its light and dark themes both read
well and fallbacks for nbconvert and VS Code.

The HTML is ours and quotes nothing unescaped: the label is made of entities, and the
code and output stay in a fence they cannot leave (:func:`~gemini_magic.display.markdown.fenced`).
Each HTML line is its own block in CommonMark terms (it starts with ``<div`` and ends at
the blank line after it), so the fence between them starts where a fence of its own
output would.

``text/plain`` keeps them apart too: ``Python:`` and ``Output:`` lines, each followed by
its text indented four spaces.
"""

from __future__ import annotations

import textwrap

from gemini_magic.display.blocks import LABEL_STYLE, Block, fold
from gemini_magic.display.markdown import fenced, html_literal, markdown_literal
from gemini_magic.text import OUTCOME_DEADLINE_EXCEEDED, OUTCOME_FAILED, OUTCOME_OK

_ERROR_COLOUR = "var(--jp-error-color1, #d32f2f)"
_BOX = "margin: 0.5em 0; padding: 0.1em 0.8em; border-radius: 2px; border-left: 3px solid"
#: The code: shaded, with the brand colour on the left.
_CODE_BOX = (
    f"{_BOX} var(--jp-brand-color1, #1976d2); "
    "background: var(--jp-layout-color2, rgba(128, 128, 128, 0.12))"
)
#: Its output: unshaded, with a neutral rule on the left (the error colour on failure).
_OUTPUT_BOX = f"{_BOX} var(--jp-border-color1, rgba(128, 128, 128, 0.45))"
_FAILED_BOX = f"{_BOX} {_ERROR_COLOUR}"
_INDENT = "    "


def outcome_heading(outcome: str) -> str | None:
    """The line that marks a failed execution in an export, or None for a success."""
    if outcome == OUTCOME_OK:
        return None
    if outcome == OUTCOME_FAILED:
        return f"Execution failed ({outcome})"
    if outcome == OUTCOME_DEADLINE_EXCEEDED:
        return "Execution timed out (30 s limit)"
    return f"Execution ended with {outcome}"


def output_label(outcome: str) -> str:
    """``Output``, or ``Output (failed: OUTCOME_FAILED)`` when the run did not succeed."""
    if outcome == OUTCOME_OK:
        return "Output"
    if outcome == OUTCOME_FAILED:
        return f"Output (failed: {outcome})"
    if outcome == OUTCOME_DEADLINE_EXCEEDED:
        return f"Output (timed out after 30 s: {outcome})"
    return f"Output (ended with {outcome})"


def _box(classes: str, box_style: str, label: str, label_colour: str, body: list[str]) -> str:
    """Markdown ``body`` sections inside our labelled box (classes say what it holds)."""
    label_style = f"{LABEL_STYLE}; color: {label_colour}" if label_colour else LABEL_STYLE
    opening = (
        f'<div class="{classes}" style="{box_style}">'
        f'<div class="gemini-magic-label" style="{label_style}">{html_literal(label)}</div>'
    )
    return "\n\n".join([opening, *body, "</div>"])


def _indented(label: str, text: str, note: str | None) -> str:
    body = textwrap.indent(text, _INDENT)
    if note:
        body += f"\n{_INDENT}{note}"
    return f"{label}:\n{body}"


class _Labelled(Block):
    """Code or output in a labelled box; its fence differs inside a whole document."""

    def _render(self, *, in_document: bool) -> str:
        raise NotImplementedError

    def _markdown(self) -> str:
        return self._render(in_document=False)

    def _document_markdown(self) -> str:
        return self._render(in_document=True)


class CodeBlock(_Labelled):
    """Code the model wrote and ran, highlighted in a shaded ``Python`` box (folded when huge)."""

    def __init__(
        self, code: str, language: str = "python", *, max_lines: int = 200, max_chars: int = 20_000
    ) -> None:
        self.code = code
        self.language = language
        self.label = language.capitalize()
        self.folded = fold(code.rstrip("\n"), max_lines, max_chars)

    def _render(self, *, in_document: bool) -> str:
        shown, note = self.folded
        body = [fenced(shown, self.language, in_document=in_document)]
        if note is not None:
            body.append(f"*{markdown_literal(note)}*")
        return _box("gemini-magic-code", _CODE_BOX, self.label, "", body)

    def _plain(self) -> str:
        return _indented(self.label, *self.folded)


class ExecutionOutput(_Labelled):
    """What running the code printed, in an ``Output`` box; failures in the error colour."""

    def __init__(
        self, outcome: str, output: str, *, max_lines: int = 200, max_chars: int = 20_000
    ) -> None:
        self.outcome = outcome
        self.output = output
        self.label = output_label(outcome)
        self.folded = fold(output.rstrip("\n"), max_lines, max_chars)

    @property
    def ok(self) -> bool:
        return self.outcome == OUTCOME_OK

    def _render(self, *, in_document: bool) -> str:
        shown, note = self.folded
        body = [fenced(shown, in_document=in_document) if shown else "*(no output)*"]
        if note:
            body.append(f"*{markdown_literal(note)}*")
        if self.ok:
            return _box("gemini-magic-output", _OUTPUT_BOX, self.label, "", body)
        classes = "gemini-magic-output gemini-magic-failed"
        return _box(classes, _FAILED_BOX, self.label, _ERROR_COLOUR, body)

    def _plain(self) -> str:
        shown, note = self.folded
        return _indented(self.label, shown or "(no output)", note)
