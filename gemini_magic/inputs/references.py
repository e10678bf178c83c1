"""``{name}`` references in a prompt template: parsing them and finding them in the namespace.

A reference is a variable name followed by attributes and literal indices, in single braces
on one line: ``{sales}``, ``{obj.frame}``, ``{frames['jan']}``, ``{Out[3]}``,
``{runs[0].table}``.  It is parsed with :mod:`ast` and only names, attributes and ``str`` /
``int`` constants are accepted, so nothing in braces is ever evaluated: no calls, slices or
operators.  ``{{`` and ``}}`` are literal braces.  A bad brace is reported with its line,
column and the text around it, and a name, attribute or key that is not there with the
closest ones that are, so a typo fails before anything is sent.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from gemini_magic.errors import AttachmentError, ReferenceNotFound, UsageError
from gemini_magic.text import count

__all__ = ["Attribute", "Key", "Reference", "parse_template", "resolve"]

# ``{{`` / ``}}`` are literal braces; ``{...}`` on one line is a reference; any other brace
# is unbalanced.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]*)\}|[{}]")
_LITERAL_BRACES = "Write `{{` and `}}` for literal braces."
_ALLOWED = (
    "a reference is a variable name with attributes and literal indices, like `{sales}`, "
    "`{obj.frame}` or `{frames['jan']}`, and nothing in braces runs"
)
# Keys listed when an index fails.
_LISTED_KEYS = 10


@dataclass(frozen=True)
class Attribute:
    """``.name`` in a reference."""

    name: str


@dataclass(frozen=True)
class Key:
    """``['jan']`` or ``[3]`` in a reference: a literal string key or integer index."""

    value: str | int


@dataclass(frozen=True)
class Reference:
    """One ``{...}`` of the template.

    ``text`` is the reference as written (without braces), ``canonical`` the same in one
    spelling (``frames["jan"]`` and ``frames['jan']`` are one reference), ``head`` the
    variable name and ``steps`` the attributes and keys after it.
    """

    text: str
    canonical: str
    head: str
    steps: tuple[Attribute | Key, ...]
    position: int

    @property
    def stem(self) -> str:
        """A file name stem for what the reference names: ``frames_jan``, ``obj.frame``."""
        stem = self.head
        for step in self.steps:
            if isinstance(step, Attribute):
                stem += f".{step.name}"
            else:
                stem += "_" + (re.sub(r"[^\w\-]+", "_", str(step.value)).strip("_") or "key")
        return stem

    @property
    def last_name(self) -> str:
        """The last name or key of the path: a column name for an unnamed Series."""
        if not self.steps:
            return self.head
        last = self.steps[-1]
        return last.name if isinstance(last, Attribute) else str(last.value)


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
            pieces.append(_reference(template, match.start(), token, content))
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


def _reference(template: str, position: int, token: str, content: str) -> Reference:
    where = _where(template, position)
    text = content.strip()
    if not text:
        raise UsageError(
            f"Empty reference `{token}` at {where}: put a variable name in the braces, "
            "like `{sales}`.",
            hint=_LITERAL_BRACES,
        )
    try:
        node = ast.parse(text, mode="eval").body
        head, steps = _path(node)
        canonical = ast.unparse(node)
    except (SyntaxError, RecursionError, _NotAllowed) as error:
        # RecursionError: nesting deeper than Python's parser goes (`{a.a.a…}`, `{---1}`).
        shown = token if len(token) <= 40 else token[:37] + "…}"
        reason = f" ({error.what} is not allowed)" if isinstance(error, _NotAllowed) else ""
        raise UsageError(
            f"`{shown}` at {where} is not a variable name{reason}: {_ALLOWED}.",
            hint=_LITERAL_BRACES,
        ) from None
    return Reference(text, canonical, head, tuple(steps), position)


class _NotAllowed(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _path(node: ast.expr) -> tuple[str, list[Attribute | Key]]:
    """The variable name and the steps of a reference's syntax tree, or _NotAllowed."""
    if isinstance(node, ast.Name):
        return node.id, []
    if isinstance(node, ast.Attribute):
        if node.attr.startswith("__"):
            raise _NotAllowed(f"the attribute `{node.attr}`, which starts with `__`,")
        head, steps = _path(node.value)
        return head, [*steps, Attribute(node.attr)]
    if isinstance(node, ast.Subscript):
        head, steps = _path(node.value)
        return head, [*steps, Key(_literal_key(node.slice))]
    raise _NotAllowed(_describe(node))


def _literal_key(node: ast.expr) -> str | int:
    if isinstance(node, ast.Constant) and type(node.value) in (str, int):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) is int
    ):
        return -node.operand.value
    if isinstance(node, ast.Slice):
        raise _NotAllowed("a slice")
    raise _NotAllowed(f"the index `{ast.unparse(node)}` (only a literal string or integer)")


def _describe(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        return "a call"
    if isinstance(node, ast.Constant):
        return "a literal value"
    return "an expression"


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


# --- resolving ---------------------------------------------------------------------------


def resolve(reference: Reference, namespace: Mapping[str, Any]) -> Any:
    """Look ``reference`` up in the user's namespace, step by step.

    A missing name, attribute, key or index is ReferenceNotFound naming it (with the closest
    ones that exist); an attribute or index that raises is an AttachmentError.
    """
    head = reference.head
    if head not in namespace:
        visible = [key for key in namespace if isinstance(key, str) and not key.startswith("_")]
        raise ReferenceNotFound(
            f"`{{{head}}}` names no variable of this notebook; nothing was sent.",
            hint=_did_you_mean(head, visible),
        )
    value = namespace[head]
    path = head
    for step in reference.steps:
        if isinstance(step, Attribute):
            value = _attribute(value, path, step.name, reference)
            path = f"{path}.{step.name}"
        else:
            value = _item(value, path, step.value, reference)
            path = f"{path}[{step.value!r}]"
    return value


def _attribute(value: Any, path: str, name: str, reference: Reference) -> Any:
    try:
        return getattr(value, name)
    except AttributeError:
        options = [a for a in dir(value) if not a.startswith("_")]
        raise ReferenceNotFound(
            f"`{path}` has no attribute `{name}` (in `{{{reference.text}}}`); nothing was sent.",
            hint=_did_you_mean(name, options),
        ) from None
    except Exception as error:
        raise AttachmentError(
            f"Reading `{path}.{name}` raised {type(error).__name__}: {error}"
        ) from error


def _item(value: Any, path: str, key: str | int, reference: Reference) -> Any:
    where = f"(in `{{{reference.text}}}`); nothing was sent"
    try:
        return value[key]
    except IndexError:
        size = _length(value)
        has = f": it has {count(size, 'item')}" if size is not None else ""
        raise ReferenceNotFound(f"`{path}` has no index {key!r}{has} {where}.") from None
    except KeyError:
        keys = _keys(value)
        listed = ", ".join(repr(k) for k in keys[:_LISTED_KEYS])
        if len(keys) > _LISTED_KEYS:
            listed += ", …"
        known = f"; keys: {listed}" if keys else ""
        raise ReferenceNotFound(
            f"`{path}` has no key {key!r}{known} {where}.",
            hint=_did_you_mean(str(key), [str(k) for k in keys]) if keys else None,
        ) from None
    except TypeError as error:
        raise AttachmentError(
            f"`{path}` ({type(value).__name__}) cannot be indexed with {key!r} {where}: {error}"
        ) from None
    except Exception as error:
        raise AttachmentError(
            f"Reading `{path}[{key!r}]` raised {type(error).__name__}: {error}"
        ) from error


def _keys(value: Any) -> list[Any]:
    """Up to a few more keys than are listed, when ``value`` has a ``keys()``."""
    keys = getattr(value, "keys", None)
    if not callable(keys):
        return []
    try:
        return list(islice(iter(keys()), _LISTED_KEYS + 1))
    except Exception:  # a keys() that is not a mapping's: list none rather than fail
        return []


def _length(value: Any) -> int | None:
    try:
        return len(value)
    except TypeError:  # no len(): the message just leaves the size out
        return None


def _did_you_mean(name: str, candidates: list[str]) -> str | None:
    close = difflib.get_close_matches(name, candidates, n=3)
    if not close:
        return None
    return "Did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
