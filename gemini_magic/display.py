"""How an answer looks in the notebook: the streaming renderer and its display objects.

:class:`StreamView` shows each part of a streamed answer the moment it arrives.  Text
goes into one Markdown output that is updated in place (a display handle), so a long
answer grows where it started instead of adding an output per network chunk; code,
execution results and images get an output each.  Only the output that is still
growing is ever re-sent, and nothing parses Markdown in Python: the front end does.

Everything the model writes is untrusted.  JupyterLab trusts the outputs of the live
session and does not sanitise them, so a ``<script>`` or ``<img onerror=...>`` in the
model's text would run.  :func:`safe_markdown` therefore escapes raw HTML in the
model's Markdown (outside fenced code, which the front end escapes itself), turns
inline code spans into ``<code>`` elements we build with escaped content, and
neutralises ``javascript:``/``vbscript:``/``data:`` link targets.  HTML we build
ourselves escapes everything it quotes.

Every display object carries a ``text/plain`` fallback for terminal IPython and
nbconvert.  The Gemini SDK is only imported for type checking: importing this module
must stay cheap (the extension loads it lazily, but the kernel imports it early).
"""

from __future__ import annotations

import base64
import html
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from gemini_magic.errors import ConfigurationError

if TYPE_CHECKING:
    from google.genai import types

MimeBundle = tuple[dict[str, Any], dict[str, Any]]

#: Outcome names of ``CodeExecutionResult`` (plain strings, so no SDK import is needed).
OUTCOME_OK = "OUTCOME_OK"
OUTCOME_FAILED = "OUTCOME_FAILED"
OUTCOME_DEADLINE_EXCEEDED = "OUTCOME_DEADLINE_EXCEEDED"

#: The label of an answer from the offline emulator, in the footer.
OFFLINE_LABEL = "offline emulator"

_WARNING = "⚠"


# --- safe Markdown ------------------------------------------------------------------
#
# Renderers disagree about where a fenced block starts and ends (list items, tables,
# multi-line link titles, JupyterLab's $$math$$ pre-pass), so safety must not depend on
# guessing that right.  Every region we emit is harmless whatever the renderer makes of
# it: prose has "<" and "&" escaped and dangerous link targets neutralised; code spans
# become <code> elements we build with every special character as an entity; a fenced
# block is left as a fence (highlighted by the front end) only if its content could not
# form a tag or an entity even when read as prose, and otherwise becomes one line of
# <pre><code> we build with escaped content.

_OPENER = re.compile(r"^([ \t]*)(`{3,}|~{3,})(.*)$")
_CLOSER = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*$")
# Inline tokens outside code: a backslash escape, a backtick run, or a character that
# must become an entity.
_INLINE_TOKEN = re.compile(r"\\[!-/:-@\[-`{-~]|`+|[<&]")
# A link target right after "](" (inline link or image) or "]:" (reference definition).
_UNSAFE_TARGET = re.compile(r"(\]\(\s*|\]:\s*)(javascript|vbscript|data)(?=\\?:)", re.IGNORECASE)
_UNSAFE_TARGET_AT_START = re.compile(r"^(\s*)(javascript|vbscript|data)(?=\\?:)", re.IGNORECASE)
_TARGET_PENDING = re.compile(r"\](?:\(|:)\s*$")
# What could start a tag, a comment, an autolink or an entity if fenced text were read
# as prose ("a < b" and "x && y" cannot).
_MARKUP_START = re.compile(r"<(?:[A-Za-z/!?]|$)|&(?:[#A-Za-z]|$)")
# Characters written as entities inside the HTML elements we build: HTML specials, and
# everything Markdown would still act on between our tags (emphasis, links, escapes,
# table pipes, JupyterLab's $math$), and line breaks so the element stays on one line.
_CODE_ENTITIES = {c: f"&#{ord(c)};" for c in "&<>\"'\\`*_[]~|$:\n"}


@dataclass(frozen=True)
class _Fence:
    """An open fenced block: how it was opened and how it must be closed."""

    indent: str
    char: str
    length: int
    info: str

    def closed_by(self, line: str) -> bool:
        closer = _CLOSER.match(line)
        return bool(
            closer
            and _indent_width(line) <= 3
            and closer.group(1)[0] == self.char
            and len(closer.group(1)) >= self.length
        )


def _indent_width(line: str) -> int:
    width = 0
    for char in line:
        if char == " ":
            width += 1
        elif char == "\t":
            width += 4 - width % 4
        else:
            break
    return width


def _entities(text: str) -> str:
    return "".join(_CODE_ENTITIES.get(c, c) for c in text)


def _code_span(content: str) -> str:
    if content.startswith(" ") and content.endswith(" ") and content.strip(" "):
        content = content[1:-1]
    return f"<code>{_entities(content)}</code>"


def _neutralise_targets(text: str, target_pending: bool = False) -> str:
    text = _UNSAFE_TARGET.sub(r"\1unsafe:\2", text)
    if target_pending:
        text = _UNSAFE_TARGET_AT_START.sub(r"\1unsafe:\2", text)
    return text


def _escape_prose(line: str, target_pending: bool) -> tuple[str, bool]:
    """Escape one line of Markdown prose; return it and whether a link target may follow.

    Code spans never extend past the line here (a span Markdown would join across lines
    stays escaped text: a cosmetic loss, never an unsafe one).
    """
    out: list[str] = []
    pos = 0
    for match in _INLINE_TOKEN.finditer(line):
        start = match.start()
        if start < pos:
            continue
        out.append(line[pos:start])
        token = match.group()
        pos = match.end()
        if token == "<":
            out.append("&lt;")
        elif token == "&":
            out.append("&amp;")
        elif token[0] == "\\":
            out.append({"\\<": "&lt;", "\\&": "&amp;"}.get(token, token))
        else:
            closing = re.compile(rf"(?<!`){token}(?!`)").search(line, pos)
            if closing is None:
                out.append("\\`" * len(token))
            else:
                out.append(_code_span(line[pos : closing.start()]))
                pos = closing.end()
    out.append(line[pos:])
    escaped = _neutralise_targets("".join(out), target_pending)
    return escaped, bool(_TARGET_PENDING.search(escaped))


def _render_fence(fence: _Fence, content: list[str], closer: str | None) -> str:
    """A fenced block as a fence if its text is harmless read as prose, else as <pre>."""
    body = "\n".join(content)
    if not _MARKUP_START.search(body) and not _MARKUP_START.search(fence.info):
        # Neutralised together: a renderer reading this as prose joins the lines.
        info, *lines = _neutralise_targets("\n".join([fence.info, *content])).split("\n")
        marker = fence.indent + fence.char * fence.length
        return "\n".join([marker + info, *lines, marker if closer is None else closer])
    language = re.match(r"[A-Za-z0-9_+-]*", fence.info.strip()).group()
    css = f' class="language-{language}"' if language else ""
    code = _entities(body + "\n" if content else "")
    return f"{fence.indent}<pre><code{css}>{code}</code></pre>"


class SafeMarkdown:
    """The model's Markdown made safe to render, built up incrementally as text streams.

    Finished prose lines and finished fenced blocks are escaped once; only the
    unfinished line (and a fenced block still open) are redone on each chunk, so the
    cost of a chunk does not grow with the length of the answer.
    """

    def __init__(self) -> None:
        self._done = ""
        self._tail = ""
        self._after_cr = False
        self._target_pending = False
        self._fence: _Fence | None = None
        self._fence_lines: list[str] = []

    def feed(self, text: str) -> None:
        """Add streamed text."""
        # Markdown also ends lines at "\r" and "\r\n"; a fence closed by one must be
        # seen as closed here too.  A "\r\n" may be split across two chunks.
        if self._after_cr and text.startswith("\n"):
            text = text[1:]
        if text:
            self._after_cr = text.endswith("\r")
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = (self._tail + text).split("\n")
        self._tail = lines.pop()
        done = []
        for line in lines:
            fence = self._fence
            if fence is not None:
                if fence.closed_by(line):
                    done.append(_render_fence(fence, self._fence_lines, line) + "\n")
                    self._fence, self._fence_lines = None, []
                else:
                    self._fence_lines.append(line)
                continue
            self._fence = _open_fence(line)
            if self._fence is None:
                escaped, self._target_pending = _escape_prose(line, self._target_pending)
                done.append(escaped + "\n")
            else:
                self._target_pending = False
        self._done += "".join(done)

    def markdown(self) -> str:
        """The safe Markdown so far (a fence the model left open is closed)."""
        fence, tail = self._fence, self._tail
        if fence is None:
            opened = _open_fence(tail)
            if opened is not None:
                return self._done + _render_fence(opened, [], None)
            return self._done + _escape_prose(tail, self._target_pending)[0]
        if fence.closed_by(tail):
            return self._done + _render_fence(fence, self._fence_lines, tail)
        return self._done + _render_fence(fence, [*self._fence_lines, tail], None)


def _open_fence(line: str) -> _Fence | None:
    opener = _OPENER.match(line)
    if opener is None or _indent_width(line) > 3:
        return None
    marker, info = opener.group(2), opener.group(3)
    if marker[0] == "`" and "`" in info:
        return None
    return _Fence(opener.group(1), marker[0], len(marker), info)


def safe_markdown(text: str) -> str:
    """Markdown written by the model (or quoting it), safe to hand to a front end."""
    converter = SafeMarkdown()
    converter.feed(text)
    return converter.markdown()


def _fenced(text: str, info: str = "", *, standalone: bool = True) -> str:
    """A fenced block we build around code or output.

    As an output of its own (the fence on the first line), a fence longer than any
    backtick run inside cannot be left by the content.  Inside a larger document an
    earlier part may leave a renderer in a state we did not foresee, so there the
    content must also be harmless read as prose, or it becomes an escaped ``<pre>``.
    """
    fence = fence_for(text)
    if standalone:
        return f"{fence}{info}\n{text}\n{fence}"
    return _render_fence(_Fence("", "`", len(fence), info), text.split("\n"), fence)


def _markdown_literal(text: str) -> str:
    """``text`` shown verbatim inside Markdown we build (names, reasons, file names)."""
    text = re.sub(r"([\\`*_\[\]|~$])", r"\\\1", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("\n", " ")


def fence_for(text: str, char: str = "`") -> str:
    """A fence longer than any run of ``char`` inside ``text``."""
    runs = re.findall(rf"{re.escape(char)}+", text)
    return char * max(3, max((len(r) for r in runs), default=0) + 1)


# --- sizes, folding ---------------------------------------------------------------------


def human_size(n_bytes: int) -> str:
    """``23.4 kB``: decimal units, as file browsers show them."""
    if n_bytes < 1000:
        return f"{n_bytes} B"
    if n_bytes < 1_000_000:
        return f"{n_bytes / 1000:.1f} kB"
    return f"{n_bytes / 1_000_000:.1f} MB"


_JPEG_SOF = {*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), *range(0xCD, 0xD0)}


def image_dimensions(mime_type: str, data: bytes) -> tuple[int, int] | None:
    """(width, height) read from a PNG or JPEG header, or None if it cannot be read.

    Read from the bytes so that showing an image needs no imaging library.
    """
    if mime_type == "image/png":
        if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
            width, height = struct.unpack(">II", data[16:24])
            return width, height
        return None
    if mime_type == "image/jpeg" and data[:2] == b"\xff\xd8":
        i = 2
        while i + 4 <= len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker == 0xFF:  # fill byte
                i += 1
                continue
            if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
                i += 2
                continue
            if marker in _JPEG_SOF:
                if i + 9 > len(data):
                    return None
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            i += 2 + length
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


def outcome_name(outcome: Any) -> str:
    """``"OUTCOME_OK"`` from an SDK ``Outcome`` enum, a string or None."""
    if outcome is None:
        return "OUTCOME_UNSPECIFIED"
    return str(getattr(outcome, "value", outcome))


def outcome_heading(outcome: str) -> str | None:
    """The line that marks a failed execution, or None for a plain success."""
    if outcome == OUTCOME_OK:
        return None
    if outcome == OUTCOME_FAILED:
        return f"Execution failed ({outcome})"
    if outcome == OUTCOME_DEADLINE_EXCEEDED:
        return "Execution timed out (30 s limit)"
    return f"Execution ended with {outcome}"


# --- display objects --------------------------------------------------------------------


class _Block:
    """A display object: one notebook output.

    ``_plain`` is the text fallback; ``_document_markdown`` is how the block reads
    inside the one Markdown document a :class:`~gemini_magic.response.GeminiResponse`
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


#: Longest model text shown in one output.  A reply of megabytes sent as one Markdown
#: output freezes the front end (and streaming would re-send it with every chunk), so
#: the text past this is folded; the full text stays on the response object.
MAX_TEXT_CHARS = 100_000


class MarkdownText(_Block):
    """The model's text: grows as chunks arrive, rendered as (safe) Markdown.

    Past ``max_chars`` the text is folded: the output keeps the first ``max_chars``
    characters and a fixed note, so it stops changing (and need not be re-sent).
    """

    def __init__(self, text: str = "", *, max_chars: int = MAX_TEXT_CHARS) -> None:
        #: What is shown: at most ``max_chars`` characters, plus one more to know it was
        #: cut.  The whole text is on the response object; keeping it here too would make
        #: a huge streamed answer quadratic.
        self.text = ""
        self.max_chars = max_chars
        self._safe = SafeMarkdown()
        self.append(text)

    @property
    def folded(self) -> bool:
        return len(self.text) > self.max_chars

    def append(self, text: str) -> None:
        room = self.max_chars - len(self.text)
        if room < 0:
            return
        self.text += text[: room + 1]
        if room > 0:
            self._safe.feed(text[:room])

    def _note(self) -> str:
        return (
            f"… text past {self.max_chars:,} characters folded; the full text is on the "
            "response object (_gemini.text)"
        )

    def _markdown(self) -> str:
        shown = self._safe.markdown()
        return f"{shown}\n\n*{_markdown_literal(self._note())}*" if self.folded else shown

    def _plain(self) -> str:
        return f"{self.text[: self.max_chars]}\n{self._note()}" if self.folded else self.text


class ThoughtSummary(_Block):
    """The model's thought summaries, collapsed (shown only when asked for)."""

    def __init__(self, text: str = "") -> None:
        self.text = text

    def append(self, text: str) -> None:
        self.text += text

    def _html(self) -> str:
        # One line, so that it stays a single HTML block inside a Markdown document.
        body = "<br>".join(html.escape(line) for line in self.text.strip("\n").split("\n"))
        return f"<details><summary>Thoughts</summary><div>{body}</div></details>"

    def _markdown(self) -> str:
        return self._html()

    def _plain(self) -> str:
        return "Thoughts:\n" + self.text.strip("\n")

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> MimeBundle:
        return {"text/html": self._html(), "text/plain": self._plain()}, {}


class CodeBlock(_Block):
    """Code the model wrote and ran, as a highlighted block (folded when huge)."""

    def __init__(
        self, code: str, language: str = "python", *, max_lines: int = 200, max_chars: int = 20_000
    ) -> None:
        self.code = code
        self.language = language
        self.folded = fold(code.rstrip("\n"), max_lines, max_chars)

    def _render(self, *, standalone: bool) -> str:
        shown, note = self.folded
        text = _fenced(shown, self.language, standalone=standalone)
        return text if note is None else f"{text}\n\n*{_markdown_literal(note)}*"

    def _markdown(self) -> str:
        return self._render(standalone=True)

    def _document_markdown(self) -> str:
        return self._render(standalone=False)

    def _plain(self) -> str:
        shown, note = self.folded
        return shown if note is None else f"{shown}\n{note}"


class ExecutionOutput(_Block):
    """What running the code printed; failures and time-outs marked as such."""

    def __init__(
        self, outcome: str, output: str, *, max_lines: int = 200, max_chars: int = 20_000
    ) -> None:
        self.outcome = outcome
        self.output = output
        self.heading = outcome_heading(outcome)
        self.folded = fold(output.rstrip("\n"), max_lines, max_chars)

    def _render(self, *, standalone: bool) -> str:
        shown, note = self.folded
        parts = []
        if self.heading:
            parts.append(f"**{_WARNING} {_markdown_literal(self.heading)}**")
        if shown:
            parts.append(_fenced(shown, standalone=standalone))
        elif not self.heading:
            parts.append("*(no output)*")
        if note:
            parts.append(f"*{_markdown_literal(note)}*")
        return "\n\n".join(parts)

    def _markdown(self) -> str:
        return self._render(standalone=True)

    def _document_markdown(self) -> str:
        return self._render(standalone=False)

    def _plain(self) -> str:
        shown, note = self.folded
        lines = [f"{_WARNING} {self.heading}"] if self.heading else []
        if shown or not self.heading:
            lines.append(shown or "(no output)")
        if note:
            lines.append(note)
        return "\n".join(lines)


class InlineImage(_Block):
    """A PNG or JPEG the model's code produced (Matplotlib figures arrive as PNG)."""

    def __init__(self, mime_type: str, data: bytes) -> None:
        self.mime_type = mime_type
        self.data = data
        self.dimensions = image_dimensions(mime_type, data)

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

    def _repr_png_(self) -> bytes | None:
        return self.data if self.mime_type == "image/png" else None

    def _repr_jpeg_(self) -> bytes | None:
        return self.data if self.mime_type == "image/jpeg" else None

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> MimeBundle:
        return {self.mime_type: self._base64(), "text/plain": self._plain()}, {}


class _NotDisplayed(_Block):
    """Something shown only by name: ``[<describe()>: not displayed]``."""

    def describe(self) -> str:
        raise NotImplementedError

    def _markdown(self) -> str:
        return f"*[{_markdown_literal(self.describe())}: not displayed]*"

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


class Notice(_Block):
    """A one-line note shown before the answer (what was sent, a hint)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _markdown(self) -> str:
        return f"*{_markdown_literal(self.text)}*"

    def _plain(self) -> str:
        return self.text

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> MimeBundle:
        return {"text/plain": self._plain()}, {}


class IncompleteMarker(_Block):
    """The line appended when an answer was cut short."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _markdown(self) -> str:
        return f"**{_markdown_literal(self.text)}**"

    def _plain(self) -> str:
        return self.text


@dataclass(frozen=True)
class Footer:
    """What the last line of an answer says (and what its metadata carries)."""

    model: str
    model_version: str | None
    usage: Any | None
    offline: bool
    latency_s: float
    conversation: str = "default"


def _usage_text(usage: Any | None) -> str | None:
    if usage is None:
        return None
    prompt = getattr(usage, "prompt_token_count", None) or 0
    output = getattr(usage, "candidates_token_count", None) or 0
    total = getattr(usage, "total_token_count", None) or 0
    thoughts = getattr(usage, "thoughts_token_count", None)
    cached = getattr(usage, "cached_content_token_count", None)
    prompt_text = f"{prompt:,} prompt ({cached:,} cached)" if cached else f"{prompt:,} prompt"
    text = f"tokens: {prompt_text} / {output:,} output / {total:,} total"
    return f"{text} ({thoughts:,} thoughts)" if thoughts else text


class FooterLine(_Block):
    """Model, token usage and the offline label; latency goes in the output's metadata.

    The latency changes from run to run, so it stays out of the text: stored notebooks
    then compare equal under nbval, which never compares metadata.
    """

    def __init__(self, footer: Footer) -> None:
        self.footer = footer

    def _pieces(self) -> list[str]:
        footer = self.footer
        pieces = [footer.model]
        if footer.offline:
            pieces.append(OFFLINE_LABEL)
        usage = _usage_text(footer.usage)
        if usage:
            pieces.append(usage)
        if footer.conversation != "default":
            pieces.append(f"conversation: {footer.conversation}")
        return pieces

    def _markdown(self) -> str:
        return "*" + " · ".join(_markdown_literal(p) for p in self._pieces()) + "*"

    def _plain(self) -> str:
        return " · ".join(self._pieces())

    def metadata(self) -> dict[str, Any]:
        footer = self.footer
        return {
            "gemini_magic": {
                "latency_s": round(footer.latency_s, 3),
                "model": footer.model,
                "model_version": footer.model_version,
                "offline": footer.offline,
                "conversation": footer.conversation,
            }
        }

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> MimeBundle:
        data, _ = super()._repr_mimebundle_(include, exclude)
        return data, self.metadata()


# --- the streaming renderer ---------------------------------------------------------------


class _NoHandle:
    """Stands in for a display handle when nothing is shown (render_parts)."""

    def update(self, obj: Any, **kwargs: Any) -> None:
        """Nothing to update: the caller reads the blocks."""


def _no_display(obj: Any, **kwargs: Any) -> _NoHandle:
    return _NoHandle()


def _code_language(code: types.ExecutableCode) -> str:
    language = str(getattr(code.language, "value", code.language) or "")
    return "python" if language in ("", "LANGUAGE_UNSPECIFIED") else language.lower()


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
        self.blocks: list[_Block] = []
        self._growing: MarkdownText | ThoughtSummary | None = None
        self._handle: Any = None

    def _show(self, block: _Block) -> None:
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
                f"{_WARNING} Interrupted: the answer above is incomplete and was not added "
                "to the conversation"
            )
        else:
            text = f"{_WARNING} Answer incomplete: {reason}"
        self._show(IncompleteMarker(text))


def inline_data_block(blob: types.Blob) -> InlineImage | InlineDataPlaceholder:
    """An image for PNG/JPEG, a named, sized placeholder for anything else."""
    mime_type = blob.mime_type or "application/octet-stream"
    data = blob.data or b""
    if mime_type in ("image/png", "image/jpeg"):
        return InlineImage(mime_type, data)
    return InlineDataPlaceholder(mime_type, len(data), blob.display_name)


def render_blocks(
    parts: Iterable[types.Part],
    *,
    show_thoughts: bool = False,
    max_output_lines: int = 200,
    max_output_chars: int = 20_000,
) -> list[_Block]:
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


def render_parts(
    parts: Iterable[types.Part],
    *,
    show_thoughts: bool = False,
    max_output_lines: int = 200,
    max_output_chars: int = 20_000,
) -> list[dict[str, Any]]:
    """MIME bundles for a whole answer, one per output, as streaming would show them."""
    blocks = render_blocks(
        parts,
        show_thoughts=show_thoughts,
        max_output_lines=max_output_lines,
        max_output_chars=max_output_chars,
    )
    return [block._repr_mimebundle_()[0] for block in blocks]
