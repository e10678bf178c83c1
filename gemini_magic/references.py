"""``{name}`` references in a prompt template: parsing them and finding them in the namespace.

A reference is a variable name or a dotted attribute path in single braces on one line;
``{{`` and ``}}`` are literal braces.  A bad brace is reported with its line, column and
the text around it, and a name that is not there with the closest names that are, so a
typo fails before anything is sent.
"""

from __future__ import annotations

import difflib
import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gemini_magic.errors import AttachmentError, ReferenceNotFound, UsageError

__all__ = ["Reference", "is_reference", "parse_template", "resolve"]

# ``{{`` / ``}}`` are literal braces; ``{...}`` on one line is a reference; any other brace
# is unbalanced.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]*)\}|[{}]")
_LITERAL_BRACES = "Write `{{` and `}}` for literal braces."


@dataclass(frozen=True)
class Reference:
    """One ``{name}`` of the template: the name as written and where it starts."""

    name: str
    position: int


def parse_template(template: str) -> list[str | Reference]:
    """Split ``template`` into literal text (braces unescaped) and references.

    Raises UsageError naming the problem and where it is (line, column, the text around it).
    """
    pieces: list[str | Reference] = []
    end = 0
    for match in _TOKEN.finditer(template):
        pieces.append(template[end : match.start()])
        end = match.end()
        token, content = match.group(0), match.group(1)
        if token == "{{":
            pieces.append("{")
        elif token == "}}":
            pieces.append("}")
        elif content is not None:
            if not is_reference(content):
                raise _brace_error(template, match.start(), token)
            pieces.append(Reference(content, match.start()))
        elif token == "{":
            raise UsageError(
                f"Unclosed `{{` at {_where(template, match.start())}: a reference is a name "
                "in braces on one line, like `{sales}`.",
                hint=_LITERAL_BRACES,
            )
        else:
            raise UsageError(
                f"Unmatched `}}` at {_where(template, match.start())}.",
                hint=_LITERAL_BRACES,
            )
    pieces.append(template[end:])
    return [p for p in pieces if p != ""]


def is_reference(content: str) -> bool:
    """A name or dotted attribute path, and nothing else (no expressions, no spaces)."""
    parts = content.split(".")
    return all(part.isidentifier() and not keyword.iskeyword(part) for part in parts)


def _brace_error(template: str, position: int, token: str) -> UsageError:
    where = _where(template, position)
    hint = _LITERAL_BRACES
    if not token[1:-1].strip():
        return UsageError(
            f"Empty reference `{token}` at {where}: put a variable name in the braces, "
            "like `{sales}`.",
            hint=hint,
        )
    shown = token if len(token) <= 40 else token[:37] + "…}"
    return UsageError(
        f"`{shown}` at {where} is not a variable name: only names and dotted attributes, "
        "like `{sales}` or `{obj.frame}`, can be referenced.",
        hint=hint,
    )


def _where(template: str, position: int) -> str:
    """``line 2, column 7 (near `…text…`)`` for an error message."""
    line_start = template.rfind("\n", 0, position) + 1
    line_end = template.find("\n", position)
    line = template[line_start : line_end if line_end != -1 else len(template)]
    column = position - line_start
    left = max(0, column - 20)
    snippet = line[left : column + 20]
    prefix = "…" if left > 0 else ""
    suffix = "…" if column + 20 < len(line) else ""
    line_number = template.count("\n", 0, position) + 1
    return f"line {line_number}, column {column + 1} (near `{prefix}{snippet}{suffix}`)"


def resolve(name: str, namespace: Mapping[str, Any]) -> Any:
    """Look ``name`` (possibly dotted) up in the user's namespace."""
    head, *attributes = name.split(".")
    if head not in namespace:
        visible = [key for key in namespace if isinstance(key, str) and not key.startswith("_")]
        raise ReferenceNotFound(
            f"`{{{head}}}` names no variable of this notebook; nothing was sent.",
            hint=_did_you_mean(head, visible),
        )
    value = namespace[head]
    path = head
    for attribute in attributes:
        try:
            value = getattr(value, attribute)
        except AttributeError:
            options = [a for a in dir(value) if not a.startswith("_")]
            raise ReferenceNotFound(
                f"`{path}` has no attribute `{attribute}` (in `{{{name}}}`); nothing was sent.",
                hint=_did_you_mean(attribute, options),
            ) from None
        except Exception as error:
            raise AttachmentError(
                f"Reading `{path}.{attribute}` raised {type(error).__name__}: {error}"
            ) from error
        path = f"{path}.{attribute}"
    return value


def _did_you_mean(name: str, candidates: list[str]) -> str | None:
    close = difflib.get_close_matches(name, candidates, n=3)
    if not close:
        return None
    return "Did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
