"""The model's Markdown made safe to render, and the fences we build around code.

Everything the model writes is untrusted.  JupyterLab trusts the outputs of the live
session and does not sanitise them, so a ``<script>`` or ``<img onerror=...>`` in the
model's text would run.  :func:`safe_markdown` therefore escapes raw HTML in the
model's Markdown (outside fenced code, which the front end escapes itself), turns
inline code spans into ``<code>`` elements we build with escaped content, and
neutralises ``javascript:``/``vbscript:``/``data:`` link targets.  :func:`fenced` puts
code or output we quote into a fence its content cannot leave, and
:func:`markdown_literal` quotes a name or a reason verbatim.

Renderers disagree about where a fenced block starts and ends (list items, tables,
multi-line link titles, JupyterLab's $$math$$ pre-pass), so safety must not depend on
guessing that right.  Every region we emit is harmless whatever the renderer makes of
it: prose has "<" and "&" escaped and dangerous link targets neutralised; code spans
become <code> elements we build with every special character as an entity; a fenced
block is left as a fence (highlighted by the front end) only if its content could not
form a tag or an entity even when read as prose, and otherwise becomes one line of
<pre><code> we build with escaped content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
            self._fence = open_fence(line)
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
            opened = open_fence(tail)
            if opened is not None:
                return self._done + _render_fence(opened, [], None)
            return self._done + _escape_prose(tail, self._target_pending)[0]
        if fence.closed_by(tail):
            return self._done + _render_fence(fence, self._fence_lines, tail)
        return self._done + _render_fence(fence, [*self._fence_lines, tail], None)


def open_fence(line: str) -> _Fence | None:
    """The fenced block ``line`` opens (as :class:`SafeMarkdown` reads it), or None."""
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


def fenced(text: str, info: str = "", *, in_document: bool = False) -> str:
    """``text`` (code or output we quote) in a fenced block it cannot leave.

    As an output of its own (the fence on the first line, or after a blank line that
    ends an HTML block of ours), a fence longer than any backtick run inside cannot be
    left by the content.  Inside a larger document
    (``in_document``) an earlier part may leave a renderer in a state we did not
    foresee, so there the content must also be harmless read as prose, or it becomes
    an escaped ``<pre>``.  Trailing newlines are dropped: the fence ends the block.
    """
    text = text.rstrip("\n")
    fence = _fence_for(text)
    if not in_document:
        return f"{fence}{info}\n{text}\n{fence}"
    return _render_fence(_Fence("", "`", len(fence), info), text.split("\n"), fence)


def html_literal(text: str) -> str:
    """``text`` verbatim inside HTML we build in Markdown: one line, no markup left.

    Every character HTML or Markdown would act on is an entity, and line breaks too, so
    the element stays one HTML block whatever the text holds.
    """
    return _entities(text)


def markdown_literal(text: str) -> str:
    """``text`` shown verbatim inside Markdown we build (names, reasons, file names)."""
    text = re.sub(r"([\\`*_\[\]|~$])", r"\\\1", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("\n", " ")


def _fence_for(text: str, char: str = "`") -> str:
    """A fence longer than any run of ``char`` inside ``text``."""
    runs = re.findall(rf"{re.escape(char)}+", text)
    return char * max(3, max((len(r) for r in runs), default=0) + 1)
