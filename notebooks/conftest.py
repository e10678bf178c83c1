"""pytest plugin for ``pytest --nbval notebooks``: the notebooks run against the emulator.

Why hooks and not a fixture: nbval's cells are plain pytest items that take no
fixtures, and nbval starts each notebook's kernel (from its kernelspec) when the
notebook's first cell runs.  Kernels inherit ``os.environ``, so the emulator is
started and the environment pointed at it when the session starts, before any
kernel exists.  The emulator serves the notebooks' scripted replies
(``notebooks/replies.yaml``) so the stored outputs are reproduced exactly, with no
API key and no network.

It also teaches nbval 0.11 one part of the Jupyter protocol it lacks:
``update_display_data``.  The magic streams an answer into one output that it
updates in place (a display handle); a front end (JupyterLab, nbclient) shows the
last version, but nbval drops updates ("unhandled iopub msg") and would compare the
first streamed chunk with the stored output.  Here an update replaces the data of
the earlier outputs with the same ``display_id``, as every front end does.

And nbval runs cells with ``store_history=False``, so every cell is ``In[1]``, while a
front end (and ``scripts/run_notebooks.py``) numbers them.  The last error that
``--error`` attaches names its cell (``In[13]``), so the request, and the token counts in
the answer's footer, would differ from the stored ones; here cells are numbered as in a
front end.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from nbformat import NotebookNode, from_dict
from nbval.kernel import RunningKernel
from nbval.plugin import IPyNbFile

HERE = Path(__file__).resolve().parent
REPLIES = HERE / "replies.yaml"
# Anything that would send a kernel to the real service (GOOGLE_API_KEY wins over
# GEMINI_API_KEY in the SDK; the others switch to Vertex AI), hide its figures, or
# make the magic autosave conversations beside a notebook (JPY_SESSION_NAME, set when
# pytest itself runs under Jupyter Server).
REMOVED_VARS = (
    "GOOGLE_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "MPLBACKEND",
    "JPY_SESSION_NAME",
)
SET_VARS = ("GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY")

_cleanup = ExitStack()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start the emulator and point every kernel started later at it."""
    from gemini_magic.emulator import Emulator

    original = IPyNbFile.get_kernel_message
    IPyNbFile.get_kernel_message = _applying_display_updates(original)
    _cleanup.callback(setattr, IPyNbFile, "get_kernel_message", original)
    execute = RunningKernel.execute_cell_input
    RunningKernel.execute_cell_input = _numbering_cells
    _cleanup.callback(setattr, RunningKernel, "execute_cell_input", execute)

    replies = REPLIES if REPLIES.exists() else None
    emulator = _cleanup.enter_context(Emulator(replies=replies, host="127.0.0.1", port=0))
    saved = {name: os.environ.get(name) for name in (*REMOVED_VARS, *SET_VARS)}
    _cleanup.callback(_restore, saved)
    for name in REMOVED_VARS:
        os.environ.pop(name, None)
    os.environ.update(GOOGLE_GEMINI_BASE_URL=emulator.url, GEMINI_API_KEY=emulator.key)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Put the environment back as it was and stop the emulator."""
    _cleanup.close()


def _restore(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _numbering_cells(self: RunningKernel, cell_input: str, allow_stdin: bool | None = None) -> str:
    """Run a cell as a front end does: kept in the history, so it gets an ``In[N]`` number."""
    return self.kc.execute(
        cell_input, store_history=True, allow_stdin=allow_stdin, stop_on_error=False
    )


def _applying_display_updates(get_kernel_message: Any) -> Any:
    """Wrap nbval's message reader so display updates reach the outputs it collects.

    nbval stores a message's ``data``/``metadata`` as is when they are already
    ``NotebookNode`` objects, so converting them on the way in lets a later update
    change the very objects nbval compares.
    """

    def read(self: IPyNbFile, timeout: float | None = None, stream: str = "iopub") -> Any:
        displays: dict[str, list[dict[str, NotebookNode]]] = self.__dict__.setdefault(
            "_displays", {}
        )
        while True:
            msg = get_kernel_message(self, timeout=timeout, stream=stream)
            content = msg["content"]
            display_id = (content.get("transient") or {}).get("display_id")
            if display_id is None:
                return msg
            if msg["msg_type"] != "update_display_data":
                content["data"] = from_dict(content.get("data", {}))
                content["metadata"] = from_dict(content.get("metadata", {}))
                displays.setdefault(display_id, []).append(content)
                return msg
            for shown in displays.get(display_id, []):
                for key in ("data", "metadata"):
                    shown[key].clear()
                    shown[key].update(from_dict(content.get(key, {})))

    return read
