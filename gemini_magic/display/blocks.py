"""The display objects an answer becomes: one notebook output each.

The model's text and thought summaries, the images its code drew (or a placeholder),
and our own one-line notes; the code and its output are in :mod:`gemini_magic.display.execution`.
Each object carries a ``text/plain`` fallback for terminal IPython and nbconvert, and
reads as part of the one Markdown document a
:class:`~gemini_magic.answer.response.GeminiResponse` shows.  Everything the model wrote is
escaped here (:mod:`gemini_magic.display.markdown`); the SDK is only imported for type
checking, so that importing this module stays cheap.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable
from typing import Any, NamedTuple

from gemini_magic.api.sdk import types
from gemini_magic.display.markdown import markdown_literal, safe_markdown
from gemini_magic.text import human_size

MimeBundle = tuple[dict[str, Any], dict[str, Any]]

WARNING = "⚠"

#: Longest model text shown in one output.  A reply of megabytes sent as one Markdown
#: output freezes the front end (and streaming would re-send it with every chunk), so
#: the text past this is folded; the full text stays on the response object.
MAX_TEXT_CHARS = 100_000

#: How a part's label looks (``Python``, ``Output``, ``Thoughts``).  Inline styles, not a
#: stylesheet: front ends drop ``<style>`` from outputs but keep ``style=``.  JupyterLab's
#: CSS variables follow its light and dark themes; the fallbacks (nbconvert without the
#: Lab CSS, VS Code) read on a light and a dark page alike.
LABEL_STYLE = "font-size: 0.85em; font-weight: 600; opacity: 0.75; margin: 0.2em 0"


def image_dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) of an image, or None if its header cannot be read.

    Pillow reads only the header here (``Image.open`` is lazy), so this stays cheap
    even for a large figure.
    """
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


class Folded(NamedTuple):
    """Text cut to the display limits, and the note saying what was left out."""

    shown: str
    note: str | None


def fold(text: str, max_lines: int, max_chars: int) -> Folded:
    """Cut ``text`` to ``max_lines`` lines and ``max_chars`` characters for display.

    A huge output sent as one Markdown block freezes the front end; the full text
    stays on the response object, which the note points to.
    """
    lines = text.split("\n")
    shown = "\n".join(lines[:max_lines])
    if len(shown) > max_chars:
        shown = shown[:max_chars]
    if shown == text:
        return Folded(text, None)
    hidden_lines = text.count("\n") - shown.count("\n")
    hidden_chars = len(text) - len(shown)
    what = f"{hidden_lines:,} more lines" if hidden_lines else f"{hidden_chars:,} more characters"
    return Folded(
        shown,
        f"… {what} folded ({human_size(len(text[len(shown) :].encode()))}); "
        "the full text is on the response object",
    )


class Block:
    """A display object: one notebook output.

    ``_plain`` is the text fallback; ``_document_markdown`` is how the block reads
    inside the one Markdown document a :class:`~gemini_magic.answer.response.GeminiResponse`
    shows.  Both ``display()`` and a display handle's ``update()`` use
    ``_repr_mimebundle_``.
    """

    def _markdown(self) -> str:
        raise NotImplementedError

    def _document_markdown(self) -> str:
        return self._markdown()

    def _plain(self) -> str:
        raise NotImplementedError

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> MimeBundle:
        return {"text/markdown": self._markdown(), "text/plain": self._plain()}, {}

    def __repr__(self) -> str:
        return self._plain()


class MarkdownText(Block):
    """The model's text: grows as chunks arrive, rendered as (safe) Markdown.

    Past ``max_chars`` the text is folded: the output keeps the first ``max_chars``
    characters and a fixed note, so it stops changing (and need not be re-sent).  While
    it streams, the text is shown in pieces (:mod:`gemini_magic.display.freeze`); this
    block is the whole of it, as the answer's document shows it.
    """

    def __init__(self, text: str = "", *, max_chars: int = MAX_TEXT_CHARS) -> None:
        #: What is shown: at most ``max_chars`` characters, plus one more to know it was
        #: cut.  The whole text is on the response object.
        self._chunks: list[str] = []
        self._length = 0
        self.max_chars = max_chars
        self.append(text)

    @property
    def text(self) -> str:
        return "".join(self._chunks)

    @property
    def folded(self) -> bool:
        return self._length > self.max_chars

    def append(self, text: str) -> str:
        """Add streamed text; return the part of it that is shown (none once folded)."""
        room = self.max_chars - self._length
        if room < 0 or not text:
            return ""
        kept = text[: room + 1]
        # Kept as chunks: adding to one growing string would copy it on every delta.
        self._chunks.append(kept)
        self._length += len(kept)
        return kept[:room]

    def note(self) -> str:
        """The line that says the text was folded."""
        return (
            f"… text past {self.max_chars:,} characters folded; the full text is on the "
            "response object (_gemini.text)"
        )

    def _markdown(self) -> str:
        shown = safe_markdown(self.text[: self.max_chars])
        return f"{shown}\n\n*{markdown_literal(self.note())}*" if self.folded else shown

    def _plain(self) -> str:
        return f"{self.text[: self.max_chars]}\n{self.note()}" if self.folded else self.text


_THOUGHTS_STYLE = (
    "margin: 0.5em 0; padding: 0.2em 0.8em; border-left: 3px solid "
    "var(--jp-border-color2, rgba(128, 128, 128, 0.3)); opacity: 0.85"
)


class ThoughtSummary(Block):
    """The model's thought summaries, collapsed (shown only when asked for)."""

    def __init__(self, text: str = "") -> None:
        self.text = text

    def append(self, text: str) -> None:
        self.text += text

    def _html(self) -> str:
        # One line, so that it stays a single HTML block inside a Markdown document.
        body = "<br>".join(html.escape(line) for line in self.text.strip("\n").split("\n"))
        return (
            f'<details class="gemini-magic-thoughts" style="{_THOUGHTS_STYLE}">'
            f'<summary style="{LABEL_STYLE}; cursor: pointer">Thoughts</summary>'
            f"<div>{body}</div></details>"
        )

    def _markdown(self) -> str:
        return self._html()

    def _plain(self) -> str:
        return "Thoughts:\n" + self.text.strip("\n")

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> MimeBundle:
        return {"text/html": self._html(), "text/plain": self._plain()}, {}


class InlineImage(Block):
    """A PNG or JPEG the model's code produced (Matplotlib figures arrive as PNG)."""

    def __init__(self, mime_type: str, data: bytes) -> None:
        self.mime_type = mime_type
        self.data = data
        self.dimensions = image_dimensions(data)

    def describe(self, *, with_size: bool = True) -> str:
        """``image/png 640×480, 23.4 kB``."""
        text = self.mime_type
        if self.dimensions:
            text += " {}×{}".format(*self.dimensions)
        return f"{text}, {human_size(len(self.data))}" if with_size else text

    def _base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def _markdown(self) -> str:
        return self._document_markdown()

    def _document_markdown(self) -> str:
        return f"![{self.describe()}](data:{self.mime_type};base64,{self._base64()})"

    def _plain(self) -> str:
        return f"<{self.describe()}>"

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> MimeBundle:
        return {self.mime_type: self._base64(), "text/plain": self._plain()}, {}


class _NotDisplayed(Block):
    """Something shown only by name: ``[<describe()>: not displayed]``."""

    def describe(self) -> str:
        raise NotImplementedError

    def _markdown(self) -> str:
        return f"*[{markdown_literal(self.describe())}: not displayed]*"

    def _plain(self) -> str:
        return f"[{self.describe()}: not displayed]"


class InlineDataPlaceholder(_NotDisplayed):
    """Inline data we do not render (SVG could carry script; others have no viewer)."""

    def __init__(self, mime_type: str, size: int, name: str | None = None) -> None:
        self.mime_type = mime_type
        self.size = size
        self.name = name

    def describe(self) -> str:
        name = f" “{self.name}”" if self.name else ""
        return f"{self.mime_type}{name}, {human_size(self.size)}"


class UnsupportedPart(_NotDisplayed):
    """A part of a kind this renderer does not know (shown, never silently dropped)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def describe(self) -> str:
        return f"{self.kind} part"


class _Line(Block):
    """A line of ours (not the model's) around an answer, quoted verbatim.

    ``emphasis`` is how Markdown marks it (``*`` or ``**``); a line without one is
    plain text only, so it reads the same in every front end.
    """

    emphasis = ""

    def __init__(self, text: str) -> None:
        self.text = text

    def _markdown(self) -> str:
        return f"{self.emphasis}{markdown_literal(self.text)}{self.emphasis}"

    def _plain(self) -> str:
        return self.text

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> MimeBundle:
        if not self.emphasis:
            return {"text/plain": self._plain()}, {}
        return super()._repr_mimebundle_(include, exclude)


class Notice(_Line):
    """A one-line note shown before the answer (what was sent, a hint)."""


class IncompleteMarker(_Line):
    """The line appended when an answer was cut short."""

    emphasis = "**"


def inline_data_block(blob: types.Blob) -> InlineImage | InlineDataPlaceholder:
    """An image for PNG/JPEG, a named, sized placeholder for anything else."""
    mime_type = blob.mime_type or "application/octet-stream"
    data = blob.data or b""
    if mime_type in ("image/png", "image/jpeg"):
        return InlineImage(mime_type, data)
    return InlineDataPlaceholder(mime_type, len(data), blob.display_name)
