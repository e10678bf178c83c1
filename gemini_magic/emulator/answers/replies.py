"""Scripted replies: a file (YAML or JSON) that maps prompts to reply parts.

The format (documented in this package's README)::

    replies:                      # or a bare list of rules
      - match: "factorial of (\\d+)"   # regex, searched case-insensitively
        parts:
          - text: "Let me compute it."
          - code: |                    # executed for real; its result follows it
              import math
              print(math.factorial(10))
          - text: "The factorial of 10 is {output}."

A ``bash`` part (``- bash: "ls -l"``) is a shell step, as the Interactions API's
sandbox runs them (``code_execution_call`` with ``language: bash``): it runs in the
same folder, and its result is a list of content blocks, its output as text and any
PNG it wrote as an image.  generateContent has no shell steps: there it is left out.

A ``thought`` part (``- thought: "I should use math.factorial."``) is a thought
summary: a ``thought`` step on Interactions (its summary shown when asked for), a
``thought: true`` part on generateContent when the request asks for thoughts.

A ``search`` part stands for a Google Search the model ran, when the request enabled
the search tool (it is left out otherwise)::

          - search:
              queries: ["population of Lyon 2024"]
              sources:
                - {title: "INSEE", uri: "https://www.insee.fr/..."}
              suggestions: "<div>...</div>"   # optional; default: chips of the queries

It becomes ``google_search_call`` / ``google_search_result`` steps on Interactions
(the sources as ``url_citation`` annotations on the next text) and ``groundingMetadata``
on generateContent.  Only scripts name sources: the emulator never invents one.

The first rule whose ``match`` is found in the prompt wins.  ``{output}`` in a text
part becomes the output of the code executed just before it (less its surrounding
blank lines), so even a scripted answer quotes real figures.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from gemini_magic.errors import ConfigurationError

ENV_VAR = "GEMINI_EMULATOR_REPLIES"

_PART_KINDS = frozenset({"text", "code", "bash", "thought", "search"})

RepliesSource = str | os.PathLike[str] | list[Any] | dict[str, Any] | None


@dataclass(frozen=True)
class ScriptedReply:
    """One rule: a prompt pattern and the parts of its reply."""

    pattern: re.Pattern[str]
    parts: tuple[dict[str, Any], ...]


def load_replies(source: RepliesSource) -> list[ScriptedReply]:
    """Read rules from a path (``.json``, ``.yaml``/``.yml``) or from Python data.

    Raises :class:`ConfigurationError` naming the file and the rule that is wrong.
    """
    if source is None:
        return []
    origin = "replies"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        origin = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"Cannot read the replies file {path}: {exc}") from None
        source = _parse(text, path)
    rules = source.get("replies") if isinstance(source, dict) else source
    if not isinstance(rules, list):
        raise ConfigurationError(f"{origin}: expected a list of rules (or a 'replies:' list).")
    return [_rule(rule, f"{origin}: rule {i}") for i, rule in enumerate(rules)]


def _parse(text: str, path: Path) -> Any:
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        import yaml

        return yaml.safe_load(text)
    except Exception as exc:
        raise ConfigurationError(f"The replies file {path} is not valid: {exc}") from None


def _rule(rule: Any, where: str) -> ScriptedReply:
    if not isinstance(rule, dict) or "match" not in rule or "parts" not in rule:
        raise ConfigurationError(f"{where}: a rule needs 'match' (a regex) and 'parts'.")
    try:
        pattern = re.compile(str(rule["match"]), re.IGNORECASE | re.DOTALL)
    except re.error as exc:
        raise ConfigurationError(f"{where}: bad regex {rule['match']!r}: {exc}") from None
    parts = rule["parts"]
    if not isinstance(parts, list) or not parts:
        raise ConfigurationError(f"{where}: 'parts' must be a non-empty list.")
    checked = []
    for j, part in enumerate(parts):
        if not (isinstance(part, dict) and len(part) == 1 and set(part) <= _PART_KINDS):
            raise ConfigurationError(
                f"{where}, part {j}: each part is {{text: ...}}, {{code: ...}}, "
                f"{{bash: ...}}, {{thought: ...}} or {{search: ...}}, got {part!r}."
            )
        if "search" in part:
            checked.append({"search": _search(part["search"], f"{where}, part {j}")})
        else:
            checked.append({k: str(v) for k, v in part.items()})
    return ScriptedReply(pattern, tuple(checked))


def _search(search: Any, where: str) -> dict[str, Any]:
    """A search part: the queries "searched", the sources found, the entry point HTML."""
    if not isinstance(search, dict) or set(search) - {"queries", "sources", "suggestions"}:
        raise ConfigurationError(
            f"{where}: a search part is {{queries: [...], sources: [{{title, uri}}, ...]}} "
            f"with an optional 'suggestions' (HTML), got {search!r}."
        )
    queries = search.get("queries")
    if not isinstance(queries, list) or not queries or not all(isinstance(q, str) for q in queries):
        raise ConfigurationError(f"{where}: 'queries' must be a non-empty list of strings.")
    sources = search.get("sources") or []
    if not isinstance(sources, list) or not all(
        isinstance(s, dict) and set(s) == {"title", "uri"} for s in sources
    ):
        raise ConfigurationError(f"{where}: each source is {{title: ..., uri: ...}}.")
    suggestions = search.get("suggestions")
    return {
        "queries": [str(q) for q in queries],
        "sources": [{"title": str(s["title"]), "uri": str(s["uri"])} for s in sources],
        "suggestions": str(suggestions) if suggestions is not None else entry_point(queries),
    }


def entry_point(queries: list[str]) -> str:
    """Search-suggestion chips (links to the queries on Google), HTML-escaped."""
    chips = "".join(
        f'<a class="chip" href="https://www.google.com/search?q={quote_plus(q)}">{escape(q)}</a>'
        for q in queries
    )
    return f'<div class="search-entry-point">{chips}</div>'


def find_reply(replies: list[ScriptedReply], prompt: str) -> ScriptedReply | None:
    """The first rule whose pattern occurs in ``prompt``."""
    return next((r for r in replies if r.pattern.search(prompt)), None)
