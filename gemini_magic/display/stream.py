"""The streaming renderer: an answer shown part by part as it arrives.

:class:`StreamView` shows each part of a streamed answer the moment it arrives.  Text
goes into one Markdown output that is updated in place (a display handle), so a long
answer grows where it started instead of adding an output per network chunk; code,
execution results and images get an output each.  Only the output that is still
growing is ever re-sent, and nothing parses Markdown in Python: the front end does.

Not every front end renders updates: terminal IPython (and ``ipython script.ipy``)
prints each update as a new copy of the whole text.  There the view writes the new
characters of a growing text only, so the answer is printed once, as it arrives
(:func:`supports_live_updates` tells which kind of front end a shell has).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from IPython.core.displaypub import DisplayPublisher
from IPython.display import display as ipython_display

from gemini_magic.api.parts import UNKNOWN_KEY
from gemini_magic.api.sdk import types
from gemini_magic.display.blocks import (
    MAX_TEXT_CHARS,
    WARNING,
    Block,
    IncompleteMarker,
    MarkdownText,
    Notice,
    ThoughtSummary,
    UnsupportedPart,
    inline_data_block,
)
from gemini_magic.display.execution import CodeBlock, ExecutionOutput
from gemini_magic.display.footer import Footer, FooterLine
from gemini_magic.display.freeze import UPDATE_INTERVAL, LiveText, Pace
from gemini_magic.errors import ConfigurationError
from gemini_magic.text import code_language, outcome_name


class _NoHandle:
    """Stands in for a display handle when nothing is shown (render_blocks)."""

    def update(self, obj: Any, **kwargs: Any) -> None:
        """Nothing to update: the caller reads the blocks."""


def _no_display(obj: Any, **kwargs: Any) -> _NoHandle:
    return _NoHandle()


class _Printed:
    """Stands in for a display handle where updates are not rendered: writes what is new.

    The plain text of a growing block only ever extends what it was (text appended, a
    fold note added once), so what is new is what lies past the part already written.
    """

    def __init__(self, write: Callable[[str], Any], plain: str) -> None:
        self._write = write
        self._length = 0
        self._last = ""
        self.add(plain)

    def add(self, new: str) -> None:
        """Write ``new``, the characters that extend the block's plain text."""
        if new:
            self._write(new)
            self._length += len(new)
            self._last = new[-1]

    def update(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Write the characters ``data``'s plain text adds to what was written."""
        self.add(data["text/plain"][self._length :])

    def close(self) -> None:
        """End the line, so that whatever is shown next starts on its own."""
        if self._length and self._last != "\n":
            self._write("\n")


def _write_stdout(text: str) -> None:
    # sys.stdout looked up on each call: IPython and capture_output replace it.
    sys.stdout.write(text)
    sys.stdout.flush()


def supports_live_updates(shell: Any) -> bool:
    """Whether the front end of ``shell`` renders a display update in place.

    ipykernel's ``ZMQDisplayPublisher`` sends ``update_display_data``, which notebooks,
    JupyterLab and VS Code apply to the output already shown.  IPython's own
    ``DisplayPublisher`` (terminal IPython, ``ipython script.ipy``) prints the plain text
    of every update again.  A publisher that replaces ``publish`` (ipykernel's,
    ``capture_output``'s, another front end's) is taken to handle updates.
    """
    publisher = getattr(shell, "display_pub", None)
    if publisher is None:
        return False
    return type(publisher).publish is not DisplayPublisher.publish


def _code_language(code: types.ExecutableCode) -> str:
    return code_language(code.language)


def _part_kind(part: types.Part) -> str:
    unknown = (part.part_metadata or {}).get(UNKNOWN_KEY)
    if unknown:  # an Interactions step or delta this version does not know
        return f"Interactions {unknown}"
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

    With ``live_updates=False`` (a front end that does not render updates) a growing
    text is written to ``write`` (standard output by default) as it grows, new
    characters only, and every other part is displayed once, in order, as before.
    """

    def __init__(
        self,
        *,
        show_thoughts: bool = False,
        max_output_lines: int = 200,
        max_output_chars: int = 20_000,
        max_text_chars: int = MAX_TEXT_CHARS,
        display: Callable[..., Any] | None = None,
        live_updates: bool = True,
        write: Callable[[str], Any] = _write_stdout,
        update_interval: float = UPDATE_INTERVAL,
        check: Callable[[], None] | None = None,
    ) -> None:
        if max_output_lines < 1 or max_output_chars < 1:
            raise ConfigurationError(
                "max_output_lines and max_output_chars must be at least 1, "
                f"not {max_output_lines} and {max_output_chars}."
            )
        self._display = display if display is not None else ipython_display
        self.live_updates = live_updates
        self.update_interval = update_interval
        #: Called before each part and note is shown: a background turn's cancel check,
        #: which raises ``KeyboardInterrupt`` to stop the turn as an interrupt does.
        self._check = check
        self._write = write
        self.show_thoughts = show_thoughts
        self.max_output_lines = max_output_lines
        self.max_output_chars = max_output_chars
        # Raising max_output_chars (a trait) past the text limit raises that too.
        self.max_text_chars = max(max_text_chars, max_output_chars)
        self.blocks: list[Block] = []
        self._growing: MarkdownText | ThoughtSummary | None = None
        self._handle: Any = None
        self._thought_pace: Pace | None = None  # when the thought summary is re-sent

    def _end_growing(self) -> None:
        if self._thought_pace is not None and self._thought_pace.held:
            self._update_thoughts()
        self._thought_pace = None
        if isinstance(self._handle, (_Printed, LiveText)):
            self._handle.close()
        self._handle = None
        self._growing = None

    def _show(self, block: Block) -> None:
        self._end_growing()
        self.blocks.append(block)
        self._display(block)

    def _grow(self, cls: type[MarkdownText] | type[ThoughtSummary], text: str) -> None:
        growing = self._growing
        if isinstance(growing, cls):
            if isinstance(growing, MarkdownText):
                self._grow_text(growing, text)
            else:
                growing.append(text)
                # Coalesced as the text is: each update re-sends the whole summary.
                assert self._thought_pace is not None  # made with the summary's output
                if self._thought_pace.changed():
                    self._update_thoughts()
            return
        self._end_growing()
        if cls is MarkdownText:
            block: MarkdownText | ThoughtSummary = MarkdownText(max_chars=self.max_text_chars)
        else:
            block = ThoughtSummary(text)
        self.blocks.append(block)
        self._growing = block
        if not self.live_updates:
            self._handle = _Printed(self._write, block._plain())
        elif isinstance(block, MarkdownText):
            self._handle = LiveText(self._display, interval=self.update_interval)
        else:
            self._handle = self._display(block, display_id=True)
        if isinstance(block, MarkdownText):
            self._grow_text(block, text)
        else:  # shown just above, in the terminal too
            self._thought_pace = Pace(self.update_interval)
            self._thought_pace.shown()

    def _update_thoughts(self) -> None:
        assert isinstance(self._growing, ThoughtSummary)
        # The bundle as is (raw): the formatter would only find it again.
        data, metadata = self._growing._repr_mimebundle_()
        self._handle.update(data, raw=True, metadata=metadata)
        assert self._thought_pace is not None
        self._thought_pace.shown()

    def _grow_text(self, block: MarkdownText, text: str) -> None:
        """Add to the model's text; show what is new (finished blocks, the tail)."""
        if block.folded:  # a folded output no longer changes
            return
        shown = block.append(text)
        if not self.live_updates:
            self._handle.add(shown + (f"\n{block.note()}" if block.folded else ""))
            return
        self._handle.grow(shown, block.note() if block.folded else None)

    def add(self, part: types.Part) -> None:
        """Show one streamed part (or grow the text output it continues)."""
        if self._check is not None:
            self._check()
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
        if self._check is not None:
            self._check()
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
