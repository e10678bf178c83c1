"""GeminiKernel: an IPython kernel whose plain cells are prompts for Gemini.

It subclasses ipykernel's ``IPythonKernel`` rather than the bare ``Kernel`` so that
everything a Python notebook relies on keeps working: the namespace prompts attach
DataFrames from, magics, ``!`` commands, display hooks, Matplotlib, ``%config`` and
interrupts.  The kernel only decides where a cell goes (see :mod:`.routing`); a prompt
becomes a ``%%gemini`` cell run by IPython, so the kernel and the magic share one
backend, one conversation store, and one error path (an error raised by the magic
makes the execute reply an error, so notebook runs fail as they should).

Start it with ``python -m gemini_magic.kernel -f CONNECTION_FILE``.
"""

from __future__ import annotations

import inspect
from typing import Any

from ipykernel.ipkernel import IPythonKernel

from gemini_magic.kernel.routing import (
    CellKind,
    as_gemini_cell,
    open_reference,
    prompt_span,
    route,
    strip_py_escape,
)

__all__ = ["ROUTING_HELP", "GeminiKernel"]

ROUTING_HELP = """\
Gemini kernel: every cell is a prompt for Gemini, sent through the %%gemini magic.
  {name} in a prompt      attaches that variable (DataFrames go as CSV)
  %%py on the first line  runs the rest of the cell as Python in this namespace
  %magic, %%magic, !cmd   on the first line run as in any IPython kernel
                          (%%gemini --model X ..., %gemini reset, %matplotlib, !ls)
  an empty first line     makes the cell a prompt even if it then starts with % or !
"""

# Key of JupyterLab's typed completions in a complete_reply's metadata.
_TYPED_COMPLETIONS = "_jupyter_types_experimental"


class GeminiKernel(IPythonKernel):
    """IPython kernel that routes plain cells to the ``%%gemini`` magic."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Load the magic now, not on the first prompt: a broken installation should stop
        # the kernel at start with a clear error, not fail the user's first cell.
        self.shell.extension_manager.load_extension("gemini_magic")
        self.shell.input_transformers_cleanup.insert(0, strip_py_escape)

    @property
    def banner(self) -> str:  # type: ignore[override]
        """IPython's banner followed by how this kernel routes cells."""
        return f"{self.shell.banner}\n{ROUTING_HELP}"

    async def do_execute(  # type: ignore[override]
        self,
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: dict[str, str] | None = None,
        allow_stdin: bool = False,
        *,
        cell_meta: dict[str, Any] | None = None,
        cell_id: str | None = None,
    ) -> dict[str, Any]:
        """Run ``code`` as a prompt, or as IPython would (``%%py`` cells included).

        A prompt becomes a ``%%gemini`` cell; a ``%%py`` cell goes to IPython as typed
        and :func:`strip_py_escape` drops its first line.  Silent requests are front-end
        helper code (variable inspectors, completion set-up): they pass through untouched.
        """
        if not silent and route(code).kind is CellKind.PROMPT:
            code = as_gemini_cell(code)
        return await super().do_execute(
            code,
            silent,
            store_history,
            user_expressions,
            allow_stdin,
            cell_meta=cell_meta,
            cell_id=cell_id,
        )

    def do_is_complete(self, code: str) -> dict[str, str]:
        """A prompt is always complete; a ``%%py`` cell is judged on its Python alone."""
        cell = route(code)
        if cell.kind is CellKind.PROMPT:
            return {"status": "complete"}
        if cell.kind is CellKind.PYTHON:
            if not cell.body.strip():
                # "%%py" alone: the user is about to type the Python.
                return {"status": "incomplete", "indent": ""}
            return super().do_is_complete(cell.body)
        return super().do_is_complete(code)

    def do_complete(self, code: str, cursor_pos: int | None) -> dict[str, Any]:
        """Complete ``{name}`` references in prompts, and Python in ``%%py`` cells."""
        if cursor_pos is None:
            cursor_pos = len(code)
        start = prompt_span(code)
        if start is not None and cursor_pos >= start:
            return self._complete_reference(code, cursor_pos)
        cell = route(code)
        if cell.kind is CellKind.PYTHON and cursor_pos >= cell.offset:
            reply = super().do_complete(cell.body, cursor_pos - cell.offset)
            return _shifted(reply, cell.offset)
        return super().do_complete(code, cursor_pos)

    def _complete_reference(self, code: str, cursor_pos: int) -> dict[str, Any]:
        """Variable names for the unclosed ``{`` before the cursor (none outside one).

        Only the user's own data is offered: IPython's hidden names (``In``, ``Out``,
        ``exit``...), private ``_`` names, and imported modules, classes and functions
        are not worth attaching to a prompt.
        """
        partial = open_reference(code[:cursor_pos])
        user_ns = self.shell.user_ns
        names: list[str] = []
        if partial is not None:
            hidden = self.shell.user_ns_hidden
            names = sorted(
                name
                for name, value in user_ns.items()
                if name.startswith(partial)
                and name.isidentifier()
                and not name.startswith("_")
                and name not in hidden
                and not (inspect.ismodule(value) or inspect.isclass(value))
                and not inspect.isroutine(value)
            )
        start = cursor_pos - len(partial or "")
        typed = [
            {"start": start, "end": cursor_pos, "text": name, "type": type(user_ns[name]).__name__}
            for name in names
        ]
        return {
            "matches": names,
            "cursor_start": start,
            "cursor_end": cursor_pos,
            "metadata": {_TYPED_COMPLETIONS: typed} if typed else {},
            "status": "ok",
        }


def _shifted(reply: dict[str, Any], offset: int) -> dict[str, Any]:
    """A complete_reply computed on a cell's body, moved back to whole-cell positions."""
    reply = dict(reply)
    reply["cursor_start"] += offset
    reply["cursor_end"] += offset
    metadata = dict(reply.get("metadata") or {})
    if _TYPED_COMPLETIONS in metadata:
        metadata[_TYPED_COMPLETIONS] = [
            {**item, "start": item["start"] + offset, "end": item["end"] + offset}
            for item in metadata[_TYPED_COMPLETIONS]
        ]
    reply["metadata"] = metadata
    return reply
