"""Re-execute the example notebooks in place against the offline emulator.

Why: the notebooks' stored outputs are what ``pytest --nbval notebooks`` compares
with, so they must come from the same place as the test run: the bundled emulator
answering ``notebooks/replies.yaml``, with no API key and no network.  Run this after
changing a notebook, the scripted replies or the way answers are displayed, then
review the diff and commit the notebooks.

Usage::

    python scripts/run_notebooks.py                         # every notebooks/*.ipynb
    python scripts/run_notebooks.py notebooks/02_*.ipynb    # some of them

Each notebook runs in the kernel its metadata names (``python3`` or ``gemini``), with
``notebooks/`` as the working folder, exactly as nbval runs it.  Cell sources, tags
and notebook metadata are kept; only outputs and execution counts change.  Cells
tagged ``raises-exception`` may fail; any other error stops with a non-zero exit.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
REPLIES = NOTEBOOKS / "replies.yaml"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# The same clean environment as notebooks/conftest.py gives the nbval run: anything
# that would reach the real service, hide figures, or make the magic autosave.
REMOVED_VARS = (
    "GOOGLE_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "MPLBACKEND",
    "JPY_SESSION_NAME",
)


def run_notebook(path: Path, timeout: int) -> None:
    """Execute ``path`` top to bottom in its own kernel and write the outputs back."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name=notebook.metadata.get("kernelspec", {}).get("name", "python3"),
        resources={"metadata": {"path": str(path.parent)}},
        # Timestamps in cell metadata would change every run and only add diff noise.
        record_timing=False,
    )
    client.execute()
    nbformat.write(stable_widget_ids(notebook), path)


def stable_widget_ids(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Rename the stored widget models (random UUIDs) to ids numbered in creation order.

    The ``%gemini`` settings panel is an ipywidgets panel whose state is stored so
    that it renders from the saved notebook; with random ids every refresh would
    rewrite hundreds of lines of unchanged state.  Ids are opaque strings that occur
    only in the widget state and the outputs that show it, so renaming is safe.
    """
    widgets = notebook.metadata.get("widgets", {})
    state = widgets.get(WIDGET_STATE, {}).get("state", {})
    if not state:
        return notebook
    text = nbformat.writes(notebook)
    for number, old in enumerate(list(state)):
        text = text.replace(old, f"{number + 1:032x}")
    return nbformat.reads(text, as_version=4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print("no notebooks to run", file=sys.stderr)
        return 1

    from gemini_magic.emulator import Emulator

    for name in REMOVED_VARS:
        os.environ.pop(name, None)
    with Emulator(replies=REPLIES, host="127.0.0.1", port=0) as emulator:
        os.environ.update(GOOGLE_GEMINI_BASE_URL=emulator.url, GEMINI_API_KEY=emulator.key)
        for path in paths:
            print(f"running {path.relative_to(ROOT) if path.is_absolute() else path} ...")
            try:
                run_notebook(path.resolve(), args.timeout)
            except CellExecutionError as exc:
                print(f"{path}: a cell failed:\n{exc}", file=sys.stderr)
                return 1
    print("done: review the diff (git diff notebooks/) and commit the notebooks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
