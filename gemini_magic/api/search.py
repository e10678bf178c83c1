"""What the model searched for (``--search``): its queries, sources and entry point.

Both APIs carry the same facts in different places — generateContent in the
candidate's ``groundingMetadata``, Interactions in ``google_search_call`` /
``google_search_result`` steps and ``url_citation`` annotations — and both stream
readers collect them into one :class:`Grounding`, which the answer carries.  Showing it
(and sanitising the entry point's HTML) is the display's part:
``gemini_magic.display.grounding``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: The links a source may have: only web pages (no ``javascript:``, no ``data:``).
SAFE_URL = re.compile(r"^\s*https?://", re.IGNORECASE)


@dataclass
class Grounding:
    """The searches behind an answer (empty when the model did not search)."""

    queries: list[str] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)  # (title, link)
    entry_points: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.queries or self.sources or self.entry_points)

    def add_query(self, query: str) -> None:
        if query and query not in self.queries:
            self.queries.append(query)

    def add_source(self, title: str | None, link: str | None) -> None:
        if link and SAFE_URL.match(link) and all(link != s[1] for s in self.sources):
            self.sources.append((title or link, link))

    def take_metadata(self, metadata: Any) -> None:
        """Read a generateContent ``groundingMetadata``."""
        for query in metadata.web_search_queries or []:
            self.add_query(query)
        for chunk in metadata.grounding_chunks or []:
            web = getattr(chunk, "web", None)
            if web is not None:
                self.add_source(web.title, web.uri)
        entry = metadata.search_entry_point
        if entry is not None and entry.rendered_content:
            self.entry_points.append(entry.rendered_content)
