"""Google Search grounding: what the model searched for, its sources, the entry point.

With ``--search`` the model may search the web beside running code.  Google's terms
ask apps to show the search suggestions it returns (the "entry point": a small HTML
snippet of search chips) with the answer; we show it with the queries and the sources
(titles and links), from the :class:`~gemini_magic.api.search.Grounding` the answer
carries.

The entry point is HTML from the service and so untrusted, like all model output: it
is passed through :func:`sanitize_html` (an allow-list: no scripts, no event handlers,
no ``javascript:`` links) before it is shown.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

from gemini_magic.api.search import SAFE_URL, Grounding
from gemini_magic.display.blocks import Block

_TAGS = frozenset(
    {"a", "b", "br", "circle", "div", "em", "g", "i", "img", "li", "p", "path", "rect"}
    | {"span", "strong", "style", "svg", "ul"}
)
_DROP_WITH_CONTENT = frozenset({"script", "iframe", "object", "embed", "template", "noscript"})
_ATTRIBUTES = frozenset(
    {"aria-hidden", "aria-label", "class", "d", "fill", "height", "href", "id", "role"}
    | {"src", "style", "viewbox", "width", "xmlns", "stroke", "stroke-width", "alt", "title"}
    | {"cx", "cy", "r", "x", "y", "rx", "ry"}
)
_UNSAFE_CSS = re.compile(r"expression\s*\(|javascript:|@import|url\s*\(", re.IGNORECASE)


class SearchBlock(Block):
    """The searches, the sources and Google's search suggestions, after the answer."""

    def __init__(self, grounding: Grounding) -> None:
        self.grounding = grounding

    def _html(self) -> str:
        g = self.grounding
        parts = ['<div class="gemini-magic-search">']
        if g.queries:
            queries = ", ".join(f"<q>{html.escape(q)}</q>" for q in g.queries)
            parts.append(f"<div><b>Searched:</b> {queries}</div>")
        if g.sources:
            items = "".join(
                f'<li><a href="{html.escape(link)}" rel="noopener noreferrer" '
                f'target="_blank">{html.escape(title)}</a></li>'
                for title, link in g.sources
            )
            parts.append(f"<div><b>Sources:</b><ol>{items}</ol></div>")
        parts.extend(sanitize_html(entry) for entry in g.entry_points)
        parts.append("</div>")
        return "".join(parts)

    def _markdown(self) -> str:
        return self._plain()

    def _plain(self) -> str:
        g = self.grounding
        lines = []
        if g.queries:
            lines.append("Searched: " + "; ".join(g.queries))
        if g.sources:
            lines.append("Sources:")
            lines.extend(f"  {n}. {title} — {link}" for n, (title, link) in enumerate(g.sources, 1))
        return "\n".join(lines) or "Searched Google (no queries were reported)."

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        return {"text/html": self._html(), "text/plain": self._plain()}, {}


class _Sanitizer(HTMLParser):
    """Rebuilds HTML keeping only allowed tags and attributes (everything escaped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._dropping = 0
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_WITH_CONTENT:
            self._dropping += 1
            return
        if self._dropping or tag not in _TAGS:
            return
        self._in_style = tag == "style"
        kept = "".join(
            f' {name}="{html.escape(value or "")}"'
            for name, value in attrs
            if _allowed(name, value or "")
        )
        self.out.append(f"<{tag}{kept}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_WITH_CONTENT:
            self._dropping = max(0, self._dropping - 1)
            return
        if not self._dropping and tag in _TAGS:
            self._in_style = False
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self._dropping:
            return
        if self._in_style:
            # CSS is not escaped by the browser inside <style>; refuse what can load or run.
            if not _UNSAFE_CSS.search(data) and "</" not in data:
                self.out.append(data)
            return
        self.out.append(html.escape(data))


def _allowed(name: str, value: str) -> bool:
    if name not in _ATTRIBUTES:
        return False
    if name in ("href", "src"):
        return bool(SAFE_URL.match(value))
    return not (name == "style" and _UNSAFE_CSS.search(value))


def sanitize_html(text: str) -> str:
    """``text`` with only harmless HTML left: the allow-listed tags and attributes."""
    parser = _Sanitizer()
    parser.feed(text)
    parser.close()
    return "".join(parser.out)
