"""The streaming renderer: an answer shown part by part as it arrives.

:class:`StreamView` shows each part of a streamed answer the moment it arrives.  Text
goes into one Markdown output that is updated in place (a display handle), so a long
answer grows where it started instead of adding an output per network chunk; code,
execution results and images get an output each.  Only the output that is still
growing is ever re-sent, and nothing parses Markdown in Python: the front end does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from gemini_magic.blocks import (
    MAX_TEXT_CHARS,
    WARNING,
    Block,
    CodeBlock,
    ExecutionOutput,
    IncompleteMarker,
    MarkdownText,
    Notice,
    ThoughtSummary,
    UnsupportedPart,
    inline_data_block,
)
from gemini_magic.enums import enum_text, outcome_name
from gemini_magic.errors import ConfigurationError
from gemini_magic.footer import Footer, FooterLine

if TYPE_CHECKING:
    from google.genai import types


class _NoHandle:
    """Stands in for a display handle when nothing is shown (render_blocks)."""

    def update(self, obj: Any, **kwargs: Any) -> None:
        """Nothing to update: the caller reads the blocks."""


def _no_display(obj: Any, **kwargs: Any) -> _NoHandle:
    return _NoHandle()


def _code_language(code: types.ExecutableCode) -> str:
    language = enum_text(code.language, "python")
    return "python" if language == "LANGUAGE_UNSPECIFIED" else language.lower()


def _part_kind(part: types.Part) -> str:
    for name in type(part).model_fields:
        if name not in ("thought", "thought_signature") and getattr(part, name) is not None:
            return name
    return "empty"


class StreamView:
    """Shows an answer part by part as it streams, each output updated in place.

    ``add`` is called for every part of every chunk, in order.  Adjacent text parts
    (and adjacent thought parts) grow one output through its display handle; every
    other part gets an output of its own.  Feeding all parts at once and then calling
    ``finish`` gives the same outputs as streaming them, so non-streaming mode uses the
    same class.
    """

    def __init__(
        self,
        *,
        show_thoughts: bool = False,
        max_output_lines: int = 200,
        max_output_chars: int = 20_000,
        max_text_chars: int = MAX_TEXT_CHARS,
        display: Callable[..., Any] | None = None,
    ) -> None:
        if max_output_lines < 1 or max_output_chars < 1:
            raise ConfigurationError(
                "max_output_lines and max_output_chars must be at least 1, "
                f"not {max_output_lines} and {max_output_chars}."
            )
        if display is None:
            from IPython.display import display
        self._display = display
        self.show_thoughts = show_thoughts
        self.max_output_lines = max_output_lines
        self.max_output_chars = max_output_chars
        # Raising max_output_chars (a trait) past the text limit raises that too.
        self.max_text_chars = max(max_text_chars, max_output_chars)
        self.blocks: list[Block] = []
        self._growing: MarkdownText | ThoughtSummary | None = None
        self._handle: Any = None

    def _show(self, block: Block) -> None:
        self._growing = None
        self.blocks.append(block)
        self._display(block)

    def _grow(self, cls: type[MarkdownText] | type[ThoughtSummary], text: str) -> None:
        growing = self._growing
        if isinstance(growing, cls):
            was_folded = isinstance(growing, MarkdownText) and growing.folded
            growing.append(text)
            if not was_folded:  # a folded output no longer changes
                # The bundle as is (raw): the formatter would only find it again, and
                # this runs once per streamed event.
                data, metadata = growing._repr_mimebundle_()
                self._handle.update(data, raw=True, metadata=metadata)
            return
        block = (
            MarkdownText(text, max_chars=self.max_text_chars) if cls is MarkdownText else cls(text)
        )
        self.blocks.append(block)
        self._growing = block
        self._handle = self._display(block, display_id=True)

    def add(self, part: types.Part) -> None:
        """Show one streamed part (or grow the text output it continues)."""
        limits = {"max_lines": self.max_output_lines, "max_chars": self.max_output_chars}
        if part.text is not None:
            if not part.text or (part.thought and not self.show_thoughts):
                return
            self._grow(ThoughtSummary if part.thought else MarkdownText, part.text)
        elif part.executable_code is not None:
            code = part.executable_code
            self._show(CodeBlock(code.code or "", _code_language(code), **limits))
        elif part.code_execution_result is not None:
            result = part.code_execution_result
            self._show(ExecutionOutput(outcome_name(result.outcome), result.output or "", **limits))
        elif part.inline_data is not None:
            self._show(inline_data_block(part.inline_data))
        elif _part_kind(part) != "empty":
            self._show(UnsupportedPart(_part_kind(part)))

    def show(self, block: Block) -> None:
        """Show a block the answer's parts do not make (the search sources)."""
        self._show(block)

    def notice(self, text: str) -> None:
        """Show a one-line note (before the answer: what was sent, a hint)."""
        self._show(Notice(text))

    def finish(self, footer: Footer) -> None:
        """Show the last line: model, usage, offline label (latency in metadata)."""
        self._show(FooterLine(footer))

    def abort(self, reason: str, *, interrupted: bool = False) -> None:
        """Keep what was shown and mark it incomplete.

        ``interrupted`` (the user stopped the kernel) gives a fixed line saying the
        answer was not added to the conversation; otherwise ``reason`` is quoted.
        """
        if interrupted:
            text = (
                f"{WARNING} Interrupted: the answer above is incomplete and was not added "
                "to the conversation"
            )
        else:
            text = f"{WARNING} Answer incomplete: {reason}"
        self._show(IncompleteMarker(text))


def render_blocks(
    parts: Iterable[types.Part],
    *,
    show_thoughts: bool = False,
    max_output_lines: int = 200,
    max_output_chars: int = 20_000,
) -> list[Block]:
    """The display objects a whole answer becomes (the same as when it streamed)."""
    view = StreamView(
        show_thoughts=show_thoughts,
        max_output_lines=max_output_lines,
        max_output_chars=max_output_chars,
        display=_no_display,
    )
    for part in parts:
        view.add(part)
    return view.blocks
