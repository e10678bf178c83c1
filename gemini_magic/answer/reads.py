"""What each file read in the model's code becomes when its file is bound to a live object.

``ReadRewriter`` replaces each read of a bound name (found with what ``CodeNames`` knows
of the code's imports and path variables) by an expression over the live object: the
object itself, copied, for a plain load, or an in-memory file with the text or bytes the
sandbox had (``io.StringIO(to_csv_bytes(sales).decode())``) when the read's options must keep
their meaning.  Expressions are built by parsing small templates around a checked
reference; a read that cannot be bound is left as it is, with the reason recorded.
"""

from __future__ import annotations

import ast
import posixpath
import re

from gemini_magic.answer.binding import Binding
from gemini_magic.answer.names import PATH_TYPES, CodeNames, check_expression

__all__ = ["ReadRewriter"]

_BINARY_KINDS = ("image", "figure")

# Readers by qualified name; other ``pandas.read_*`` are "pandas", other polars readers
# "polars_other".  "any" readers take a path or any file object.
_READERS = {
    "pandas.read_csv": "pandas_csv",
    "pandas.read_table": "pandas_csv",
    "polars.read_csv": "polars_read",
    "polars.scan_csv": "polars_scan",
    "builtins.open": "open",
    "io.open": "open",
    "PIL.Image.open": "image",
    "matplotlib.pyplot.imread": "any",
    "matplotlib.image.imread": "any",
    "numpy.loadtxt": "any",
    "numpy.genfromtxt": "any",
}
_PATH_KEYWORDS = {
    "filepath_or_buffer",
    "io",
    "path_or_buf",
    "path",
    "source",
    "file",
    "fp",
    "fname",
}
_PATH_METHODS = {"read_text": "path_text", "read_bytes": "path_bytes", "open": "path_open"}
# Methods that write to the path they are given first (``df.to_csv('out.csv')``).
_WRITERS = {
    "to_csv",
    "to_excel",
    "to_json",
    "to_parquet",
    "to_pickle",
    "to_feather",
    "savefig",
    "write_csv",
    "write_parquet",
    "write_text",
    "write_bytes",
    "imsave",
    "save",
}


def _family(qualified: str | None) -> str | None:
    if qualified is None:
        return None
    if qualified in _READERS:
        return _READERS[qualified]
    if qualified.startswith("pandas.read_"):
        return "pandas"
    if qualified.startswith(("polars.read_", "polars.scan_")):
        return "polars_other"
    return None


def _text_of(binding: Binding) -> str | None:
    """The expression giving the file's whole text, as the sandbox had it (None: binary).

    A frame's text comes from the attachment's own writer (``{csv}``): ``to_csv`` or
    polars alone would quote, format floats and write missing values differently.
    """
    if binding.kind in ("frame", "series", "polars"):
        return "{csv}({x}).decode()"
    return {"text": "{x}"}.get(binding.kind)


def _whole(binding: Binding, family: str) -> str | None:
    """The live object as a plain load by ``family`` gives it (a copy), when there is one."""
    kind = binding.kind
    if family in ("pandas_csv", "pandas") and kind in ("frame", "series"):
        if binding.index:
            return "{x}.reset_index()"
        return "{x}.copy()" if kind == "frame" else "{x}.to_frame()"
    if kind == "polars" and family in ("polars_read", "polars_other"):
        return "{x}.clone()"
    if kind == "polars" and family == "polars_scan":
        return "{x}.lazy()"
    if kind == "image" and family == "image":
        return "{x}.copy()"
    return None


def _plan(binding: Binding, family: str, extras: int, mode: str | None) -> tuple[str, str] | str:
    """How to rewrite one read: ``("call"|"path", template)``, or why it stays as is.

    "call" replaces the whole read, "path" only its path argument.  Templates use
    ``{x}`` (the live object), ``{io}`` (the io module) and ``{png}`` (an image's PNG).
    """
    if mode is not None and _writes(mode):
        return "it is opened for writing"
    if binding.kind == "file":
        return "path", "{x}"
    whole = _whole(binding, family) if not extras else None
    if whole is not None:
        return "call", whole
    if binding.kind in _BINARY_KINDS:
        png = "{io}.BytesIO({png}.getvalue())"
        if family in ("image", "any") or (family in ("open", "path_open") and "b" in mode):
            return ("path", png) if family in ("image", "any") else ("call", png)
        if family == "path_bytes":
            return "call", "{png}.getvalue()"
        return "it is an image, not text or a table"
    text = _text_of(binding)
    if family in ("open", "path_open"):
        if "b" in mode:
            return "call", f"{{io}}.BytesIO(({text}).encode())"
        return "call", f"{{io}}.StringIO({text})"
    if family == "path_text":
        return "call", f"({text})"
    if family == "path_bytes":
        return "call", f"({text}).encode()"
    if family in ("pandas_csv", "polars_read", "polars_scan", "any") or binding.kind == "text":
        return "path", f"{{io}}.StringIO({text})"
    return "its reader expects another format than the CSV text that was attached"


class ReadRewriter(ast.NodeTransformer):
    """Rewrites the bound reads of one module; records what it bound and what it left."""

    def __init__(self, names: CodeNames, bindings: dict[str, Binding]) -> None:
        self.names = names
        self.bindings = bindings
        self.bound: list[tuple[str, str]] = []
        self.unbound: dict[str, str] = {}
        self.writes: list[str] = []
        self._io: str | None = None
        self._csv: str | None = None
        self._live: dict[int, str] = {}
        self._png: dict[int, str] = {}
        self._prelude: list[str] = []

    def rewrite(self, tree: ast.Module) -> ast.Module:
        """The rewritten module: the imports and captures it needs first, then the code."""
        tree = self.visit(tree)
        self._report_leftover_names(tree)
        if self._io is not None and not _imports_io(tree):
            imported = "import io" if self._io == "io" else f"import io as {self._io}"
            self._prelude.insert(0, imported)
        head = ast.parse("\n".join(self._prelude)).body
        at = 0
        for statement in tree.body:
            docstring = (
                at == 0
                and isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Constant)
            )
            if not docstring and not (
                isinstance(statement, ast.ImportFrom) and statement.module == "__future__"
            ):
                break
            at += 1
        tree.body[at:at] = head
        return ast.fix_missing_locations(tree)

    def visit_Call(self, node: ast.Call) -> ast.expr:
        node = self.generic_visit(node)  # type: ignore[assignment]
        self._note_write(node)
        family = _family(self.names.qualified(node.func))
        if family is not None:
            slot = _path_slot(node)
            if slot is None:
                return node
            mode = _mode(node, 1) if family == "open" else None
            extras = len(node.args) + len(node.keywords) - 1
            return self._read(node, family, node, slot, extras, mode)
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in _PATH_METHODS
            and self._is_path(func.value)
        ):
            family = _PATH_METHODS[func.attr]
            mode = _mode(node, 0) if family == "path_open" else None
            holder: ast.Call = func.value  # type: ignore[assignment]
            return self._read(node, family, holder, ("arg", 0), 0, mode)
        return node

    def _note_write(self, node: ast.Call) -> None:
        """Record the constant path a call writes to: here, that is the user's folder."""
        func, target = node.func, None
        if _family(self.names.qualified(func)) == "open" and node.args:
            target = node.args[0] if _writes(_mode(node, 1)) else None
        elif (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Call)  # so the type checker knows it has args
            and self._is_path(func.value)
        ):
            if func.attr in ("write_text", "write_bytes") or (
                func.attr == "open" and _writes(_mode(node, 0))
            ):
                target = func.value.args[0]
        elif isinstance(func, ast.Attribute) and func.attr in _WRITERS and node.args:
            target = node.args[0]
        path = None if target is None else self.names.path_of(target)
        if path is not None and path not in self.writes:
            self.writes.append(path)

    def _is_path(self, node: ast.expr) -> bool:
        """``Path(x)``: one argument, so ``x`` is the path."""
        return (
            isinstance(node, ast.Call)
            and self.names.qualified(node.func) in PATH_TYPES
            and len(node.args) == 1
            and not node.keywords
        )

    def _read(
        self,
        node: ast.Call,
        family: str,
        holder: ast.Call,
        slot: tuple[str, int],
        extras: int,
        mode: str | bool | None,
    ) -> ast.expr:
        """Rewrite ``node`` whose path sits at ``slot`` of the call ``holder``."""
        where, index = slot
        path_node = holder.args[index] if where == "arg" else holder.keywords[index].value
        path = self.names.path_of(path_node)
        if path is None:
            return node
        directory, filename = posixpath.split(posixpath.normpath(path))
        binding = self.bindings.get(filename) if directory in ("", ".") else None
        if binding is None and mode is not None and _writes(mode):
            return node  # not a read: listed among the writes
        if binding is None:
            elsewhere = filename in self.bindings
            self._leave(path, "outside the working folder" if elsewhere else "not attached")
            return node
        if mode is False:
            self._leave(path, "it is opened with a mode that is not a constant")
            return node
        plan = _plan(binding, family, extras, mode)
        if isinstance(plan, str):
            self._leave(path, plan)
            return node
        target, template = plan
        new = self._expression(template, binding)
        pair = (filename, check_expression(binding.expression)[0])
        if pair not in self.bound:
            self.bound.append(pair)
        if target == "call":
            return ast.copy_location(new, node)
        if where == "arg":
            holder.args[index] = new
        else:
            holder.keywords[index].value = new
        return node

    def _leave(self, path: str, why: str) -> None:
        self.unbound.setdefault(path, why)

    def _expression(self, template: str, binding: Binding) -> ast.expr:
        fields = {"x": self._live_name(binding)}
        if "{io}" in template:
            fields["io"] = self._io_name()
        if "{csv}" in template:
            fields["csv"] = self._csv_name()
        if "{png}" in template:
            fields["png"] = self._png_name(binding, fields["x"])
        return ast.parse(template.format(**fields), mode="eval").body

    def _live_name(self, binding: Binding) -> str:
        """The expression itself, or a capture of it when the code rebinds its root name.

        ``sales = pd.read_csv('sales.csv')`` inside a function would otherwise read the
        local ``sales`` before it is assigned.
        """
        source, root = check_expression(binding.expression)
        if not self.names.counts[root]:
            return source
        key = id(binding)
        if key not in self._live:
            stem = re.sub(r"\W", "_", binding.filenames[0].rsplit(".", 1)[0])
            self._live[key] = self.names.fresh(f"_attached_{stem}")
            self._prelude.append(f"{self._live[key]} = {source}")
        return self._live[key]

    def _png_name(self, binding: Binding, live: str) -> str:
        """A buffer holding the PNG the image or figure was sent as, made once up front."""
        key = id(binding)
        if key not in self._png:
            stem = re.sub(r"\W", "_", binding.filenames[0].rsplit(".", 1)[0])
            name = self._png[key] = self.names.fresh(f"_{stem}_png")
            save = "savefig" if binding.kind == "figure" else "save"
            self._prelude.append(f"{name} = {self._io_name()}.BytesIO()")
            self._prelude.append(f"{live}.{save}({name}, format='png')")
        return self._png[key]

    def _csv_name(self) -> str:
        """The attachment writer ``to_csv_bytes``, imported once under a free name."""
        if self._csv is None:
            self._csv = name = self.names.fresh("to_csv_bytes")
            alias = "" if name == "to_csv_bytes" else f" as {name}"
            self._prelude.insert(0, f"from gemini_magic.inputs.frames import to_csv_bytes{alias}")
        return self._csv

    def _io_name(self) -> str:
        if self._io is None:
            taken = "io" in self.names.counts and self.names.imports.get("io") != "io"
            self._io = self.names.fresh("_io") if taken else "io"
        return self._io

    def _report_leftover_names(self, tree: ast.Module) -> None:
        """Report bound file names still written in the code outside a rewritten read."""
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in self.names.path_constants
            ):
                directory, filename = posixpath.split(posixpath.normpath(node.value))
                if directory in ("", ".") and filename in self.bindings:
                    self._leave(node.value, "named outside a read that could be bound")


def _imports_io(tree: ast.Module) -> bool:
    return any(
        isinstance(s, ast.Import) and any(a.name == "io" and not a.asname for a in s.names)
        for s in tree.body
    )


def _path_slot(node: ast.Call) -> tuple[str, int] | None:
    if node.args and not isinstance(node.args[0], ast.Starred):
        return "arg", 0
    for index, keyword in enumerate(node.keywords):
        if keyword.arg in _PATH_KEYWORDS:
            return "kw", index
    return None


def _writes(mode: str | bool) -> bool:
    """True for a mode that writes, and for one not known (not a constant)."""
    return mode is False or bool(re.search(r"[wax+]", str(mode)))


def _mode(node: ast.Call, position: int) -> str | bool:
    """The constant mode of an ``open`` call ("r" by default), or False if not constant."""
    value: ast.expr | None = node.args[position] if len(node.args) > position else None
    for keyword in node.keywords:
        if keyword.arg == "mode":
            value = keyword.value
    if value is None:
        return "r"
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    return False
