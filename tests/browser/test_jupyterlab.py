"""JupyterLab in headless Chromium: what a user sees after running a notebook.

Three tests.  The plain-Python one checks the harness itself (a broken harness and a
broken product then fail differently); the other two run a ``%%gemini`` notebook and a
Gemini-kernel notebook against the offline emulator and check that the model's code,
its execution output and its chart are rendered in the page.  The ``%%gemini`` test
saves the screenshot the README shows (docs/images/jupyterlab-gemini.png).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "images" / "jupyterlab-gemini.png"
KERNEL_SCREENSHOT = ROOT / "docs" / "images" / "jupyterlab-gemini-kernel.png"
PNG_IMAGE = ".jp-RenderedImage img[src^='data:image/png']"


def test_harness_renders_a_matplotlib_figure(notebook, make_notebook, tmp_path) -> None:
    """A plain Python notebook: the harness runs cells and sees text and a PNG figure."""
    name = make_notebook(
        "harness.ipynb",
        "python3",
        [
            "import matplotlib.pyplot as plt\nprint('harness says hello')",
            "plt.plot([1, 3, 2])\nplt.title('harness figure')\nplt.show()",
        ],
    )
    notebook.open(name)
    notebook.run_all_cells()

    assert notebook.errors() == []
    assert "harness says hello" in notebook.outputs().all_inner_texts()[0]
    figure = notebook.page.locator(PNG_IMAGE)
    assert figure.count() == 1
    assert figure.first.evaluate("img => img.complete && img.naturalWidth > 100")
    notebook.screenshot(tmp_path / "harness.png")
