"""What the names in a piece of Python code refer to, as far as reading it tells.

The rewrite of file reads needs to know that ``pd.read_csv`` is ``pandas.read_csv`` after
``import pandas as pd``, which names the code binds itself (so a live object is not
shadowed), and which module-level variables hold a constant path
(``path = 'sales.csv'``).  Only what is certain from the text counts: a variable assigned
more than once anywhere, or a path built at run time, is not tracked.
"""

from __future__ import annotations

import ast
import posixpath
from collections import Counter
from typing import Any

from gemini_magic.errors import UsageError

__all__ = ["PATH_TYPES", "CodeNames", "check_expression"]

PATH_TYPES = {"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"}
_JOINS = {"os.path.join", "posixpath.join"}

# What a name the code uses but never binds means: one code block of an answer often uses
# the imports of an earlier one (``-n 2``), and these are the names everyone gives them.
_CONVENTIONS = {
    "open": "builtins.open",
    "pd": "pandas",
    "pandas": "pandas",
    "pl": "polars",
    "polars": "polars",
    "np": "numpy",
    "plt": "matplotlib.pyplot",
    "Image": "PIL.Image",
    "PIL": "PIL",
    "Path": "pathlib.Path",
    "pathlib": "pathlib",
    "os": "os",
    "io": "io",
}


_VALID_KEY = (str, int)


def check_expression(expression: str) -> tuple[str, str]:
    """``expression`` as code and its root name, if it is a plain reference.

    A reference is ``a``, ``a.b``, ``a['k']`` or ``a[0]``; anything else (a call,
    arithmetic, a slice) could run code when substituted into the rewritten code, so it
    is refused with a UsageError.  The code is the parsed form, so a comment or a line
    break in ``expression`` cannot change what the substitution means.
    """
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        node = None
    current = node
    while isinstance(current, ast.Attribute | ast.Subscript):
        if isinstance(current, ast.Subscript) and not (
            isinstance(current.slice, ast.Constant) and type(current.slice.value) in _VALID_KEY
        ):
            current = None
            break
        current = current.value
    if not isinstance(current, ast.Name):
        raise UsageError(
            f"`{expression}` is not a variable reference to bind a file to.",
            hint="Use a name, an attribute or a subscript with a constant key, like "
            "`sales`, `data.sales` or `frames['jan']`.",
        )
    return ast.unparse(node), current.id  # type: ignore[arg-type]


class CodeNames:
    """Imports, bound names and constant path variables of one module's code."""

    def __init__(self, tree: ast.Module) -> None:
        self.imports: dict[str, str] = {}
        self.counts: Counter[str] = Counter()
        self.used: set[str] = set()
        for node in ast.walk(tree):
            for name in self._bound_by(node):
                self.counts[name] += 1
            if isinstance(node, ast.Name):
                self.used.add(node.id)
        self.used.update(self.counts)
        self.paths: dict[str, str] = {}
        self.path_constants: set[int] = set()
        for statement in tree.body:
            target, value = _single_assignment(statement)
            if target is None or self.counts[target] != 1:
                continue
            path = self.path_of(value)
            if path is not None:
                self.paths[target] = path
                self.path_constants.update(id(n) for n in ast.walk(value))

    def _bound_by(self, node: ast.AST) -> list[str]:
        """Names ``node`` binds; imports are also recorded with what they name."""
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            return [node.id]
        if isinstance(node, ast.arg):
            return [node.arg]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return [node.name]
        if isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            return [node.name]
        if isinstance(node, ast.Import):
            names = []
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                self.imports[local] = alias.name if alias.asname else local
                names.append(local)
            return names
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                self.imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            return [alias.asname or alias.name for alias in node.names]
        return []

    def qualified(self, node: ast.expr) -> str | None:
        """``pandas.read_csv`` for ``pd.read_csv`` after ``import pandas as pd``, else None."""
        attributes = []
        while isinstance(node, ast.Attribute):
            attributes.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        if node.id in self.imports:
            root = self.imports[node.id]
        elif node.id in _CONVENTIONS and not self.counts[node.id]:
            root = _CONVENTIONS[node.id]
        else:
            return None
        return ".".join([root, *reversed(attributes)])

    def path_of(self, node: ast.expr) -> str | None:
        """The constant path ``node`` evaluates to: a string, a tracked variable, a join."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self.paths.get(node.id)
        if isinstance(node, ast.Call) and not node.keywords:
            qualified = self.qualified(node.func)
            if qualified in _JOINS or (qualified in PATH_TYPES and len(node.args) <= 1):
                parts = [self.path_of(arg) for arg in node.args]
                if all(part is not None for part in parts):
                    return posixpath.join(*parts) if parts else "."
        return None

    def fresh(self, wanted: str) -> str:
        """``wanted``, or ``wanted_1``... when the code already uses that name."""
        name, n = wanted, 0
        while name in self.used:
            n += 1
            name = f"{wanted}_{n}"
        self.used.add(name)
        return name


def _single_assignment(statement: ast.stmt) -> tuple[str | None, Any]:
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        return statement.targets[0].id, statement.value
    if (
        isinstance(statement, ast.AnnAssign)
        and statement.value is not None
        and isinstance(statement.target, ast.Name)
    ):
        return statement.target.id, statement.value
    return None, None
