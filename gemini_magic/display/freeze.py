"""Long answers at O(n): finished Markdown blocks frozen, only the growing tail re-sent.

A streamed text used to be one output updated on every delta, each update re-sending
the whole text so far (and JupyterLab re-rendering it): a 23 kB answer in 980 deltas
sent 24 MB to the front end.  Here the text is cut into blocks where Markdown itself
ends one, at a blank line outside a fenced code block, an HTML block or a ``$$`` math
block (a table ends at a blank line too), and only once the next block has begun at
the left margin (an indented line after a blank one may still belong to a list item).
A finished block becomes an output of its own, sent once more and never again; only
the unfinished tail is updated, at most :data:`UPDATE_INTERVAL` apart.

:class:`BlockSplitter` is the pure part (text in, finished blocks out; the blocks and
the tail always add up to the text), :class:`LiveText` the part that shows them.
Fences are read exactly as :class:`~gemini_magic.display.markdown.SafeMarkdown` reads
them, so making each block safe on its own gives the same Markdown as the whole text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from gemini_magic.display.blocks import Block
from gemini_magic.display.markdown import markdown_literal, open_fence, safe_markdown

#: Shortest time between two updates of a growing text (about 10 a second): fast enough
#: to read as streaming, rare enough that re-sending the tail stays a small cost.
UPDATE_INTERVAL = 0.1

# Markdown ends a line at "\n", "\r\n" or a lone "\r", as SafeMarkdown does.
_LINE_END = re.compile(r"\r\n|\r|\n")

# CommonMark's HTML blocks that may hold blank lines (kinds 1 to 5), each with the
# pattern that ends it.  The others end at a blank line, like a paragraph.
_HTML_BLOCKS = (
    (
        re.compile(r" {0,3}<(?:script|pre|style|textarea)(?:[\s>]|$)", re.I),
        re.compile(r"</(?:script|pre|style|textarea)>", re.I),
    ),
    (re.compile(r" {0,3}<!--"), re.compile(r"-->")),
    (re.compile(r" {0,3}<\?"), re.compile(r"\?>")),
    (re.compile(r" {0,3}<![A-Za-z]"), re.compile(r">")),
    (re.compile(r" {0,3}<!\[CDATA\["), re.compile(r"\]\]>")),
)


def _html_block_end(line: str) -> re.Pattern[str] | None:
    """What ends the HTML block ``line`` opens (None: it opens none, or closes it too)."""
    for opener, closer in _HTML_BLOCKS:
        started = opener.match(line)
        if started is not None:
            return None if closer.search(line, started.end()) else closer
    return None


def _is_blank(line: str) -> bool:
    return not line.strip(" \t")


class BlockSplitter:
    """Cuts streamed Markdown into finished blocks, incrementally (a pure state machine).

    ``feed`` returns the blocks its text finished; ``tail`` is what is not finished yet.
    Whatever the chunks, the blocks fed so far plus the tail are exactly the text fed,
    and the blocks are the same as for the whole text at once (:func:`split_blocks`).
    """

    def __init__(self) -> None:
        self._lines: list[str] = []  # the ended lines of the unfinished block
        self._line = ""  # the current line, not ended yet (a trailing "\r" may be "\r\n")
        self._fence: Any = None
        self._html: re.Pattern[str] | None = None
        self._math = False
        self._content = False  # the unfinished block has a line that is not blank
        self._after_blank = False  # the last ended line was a blank one that ends a block

    @property
    def tail(self) -> str:
        """The text not in a finished block yet."""
        return "".join(self._lines) + self._line

    def feed(self, text: str) -> list[str]:
        """Add streamed text; return the blocks it finished, in order."""
        finished: list[str] = []
        buffer = self._line + text
        start = 0
        for end in _LINE_END.finditer(buffer):
            if end.group() == "\r" and end.end() == len(buffer):
                break  # the "\n" of a "\r\n" may come with the next chunk
            line = buffer[start : end.start()]
            self._cut_before(line[:1] or end.group()[:1], finished)
            self._lines.append(buffer[start : end.end()])
            self._ended(line)
            start = end.end()
        self._line = buffer[start:]
        if self._line:
            self._cut_before(self._line[0], finished)
        return finished

    def _cut_before(self, first: str, finished: list[str]) -> None:
        """Finish the block before a line that starts with ``first``, if it may end there."""
        if self._after_blank and first not in " \t\r\n":
            finished.append("".join(self._lines))
            self._lines, self._content, self._after_blank = [], False, False

    def _ended(self, line: str) -> None:
        """Follow the block structure past one ended line (``line`` without its end).

        Fences are followed everywhere SafeMarkdown follows them (it escapes raw HTML,
        so for it an HTML block is prose).  Outside fences, HTML blocks (as CommonMark
        reads them) and ``$$`` math (as JupyterLab's math pass reads it, HTML or not)
        are followed side by side: a block ends only where no reading has one open.
        """
        self._after_blank = False
        if self._fence is not None:
            if self._fence.closed_by(line):
                self._fence = None
            return
        self._fence = open_fence(line)
        if self._fence is not None:
            self._content = True
            return
        if self._html is not None:
            if self._html.search(line):
                self._html = None
        else:
            self._html = _html_block_end(line)
        if line.count("$$") % 2:
            self._math = not self._math
        if _is_blank(line) and self._html is None and not self._math:
            self._after_blank = self._content
        else:
            self._content = True


def split_blocks(text: str) -> tuple[list[str], str]:
    """``text`` as its finished Markdown blocks and the unfinished tail."""
    splitter = BlockSplitter()
    return splitter.feed(text), splitter.tail


class Pace:
    """When a growing output is re-sent: its first change at once, later ones at most
    ``interval`` apart; a change held back is shown when the output ends (``held``).

    Both growing outputs of an answer keep this one rule: the text's tail
    (:class:`LiveText`) and the thought summary (``StreamView``).
    """

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._shown_at: float | None = None
        #: A change was made that is not shown yet.
        self.held = False

    def changed(self, *, now: bool = False) -> bool:
        """Note a change; return whether to show it now (``now``: whatever the time)."""
        self.held = True
        last = self._shown_at
        return last is None or now or self._clock() - last >= self._interval

    def shown(self) -> None:
        """The output was just shown as it stands."""
        self.held = False
        self._shown_at = self._clock()


class TextPiece(Block):
    """One output of a streamed text: a finished block, or the tail still growing.

    ``note`` is the fixed line of a text folded at its limit (shown after the tail).
    """

    def __init__(self, text: str, note: str | None = None) -> None:
        self.text = text
        self.note = note

    def _markdown(self) -> str:
        shown = safe_markdown(self.text)
        return f"{shown}\n\n*{markdown_literal(self.note)}*" if self.note else shown

    def _plain(self) -> str:
        return f"{self.text}\n{self.note}" if self.note else self.text


class LiveText:
    """Shows one growing text as frozen blocks and one tail output, updates coalesced.

    The first text is shown at once; later text at most every ``interval`` seconds, and
    whatever is held back when :meth:`close` is called (the text ended: code, an image,
    the footer, an error or an interrupt follows) is shown then.  Each finished block is
    sent once more (its final form) and never again.
    """

    def __init__(
        self,
        display: Callable[..., Any],
        *,
        interval: float = UPDATE_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._display = display
        self._pace = Pace(interval, clock)
        self._splitter = BlockSplitter()
        self._finished: list[str] = []
        self._note: str | None = None
        self._handle: Any = None  # the tail's output, once shown

    def grow(self, text: str, note: str | None = None) -> None:
        """Add streamed text (and the fold note once the text reached its limit)."""
        self._finished += self._splitter.feed(text)
        if note is not None:
            self._note = note
        if self._pace.changed(now=note is not None):
            self._show()

    def close(self) -> None:
        """Show what is held back: the text ended."""
        if self._pace.held:
            self._show()

    def _show(self) -> None:
        for block in self._finished:
            self._put(TextPiece(block))
            self._handle = None  # that output is final: the tail goes below it
        self._finished = []
        tail = self._splitter.tail
        if tail or self._note:
            piece = TextPiece(tail, self._note)
            if self._handle is None:
                self._handle = self._display(piece, display_id=True)
            else:
                self._put(piece)
        self._pace.shown()

    def _put(self, piece: TextPiece) -> None:
        """Show ``piece`` in the tail's output if there is one, else as a new output."""
        if self._handle is None:
            self._display(piece)
        else:
            # The bundle as is (raw): the formatter would only find it again.
            data, metadata = piece._repr_mimebundle_()
            self._handle.update(data, raw=True, metadata=metadata)
