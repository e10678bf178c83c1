"""JupyterLab in headless Chromium: what a user sees after running a notebook.

Three tests.  The plain-Python one checks the harness itself (a broken harness and a
broken product then fail differently); the other two run a ``%%gemini`` notebook and a
Gemini-kernel notebook against the offline emulator and check that the model's code,
its execution output and its chart are rendered in the page, code and output in
separate labelled boxes.  The ``%%gemini`` test saves the screenshot the README shows
(docs/images/jupyterlab-gemini.png).
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
    assert notebook.kernel_name() == "Python 3 (ipykernel)"
    notebook.run_all_cells()

    assert notebook.errors() == []
    assert "harness says hello" in notebook.outputs().all_inner_texts()[0]
    figure = notebook.page.locator(PNG_IMAGE)
    assert figure.count() == 1
    assert figure.first.evaluate("img => img.complete && img.naturalWidth > 100")
    notebook.screenshot(tmp_path / "harness.png")


SALES = (
    "import pandas as pd\n"
    "sales = pd.DataFrame({\n"
    '    "month": pd.period_range("2024-01", periods=12, freq="M").astype(str),\n'
    '    "revenue": [100, 120, 130, 110, 140, 150, 160, 155, 170, 180, 200, 245],\n'
    "})"
)
PROMPT = "Plot the monthly revenue in {sales} and tell me the mean revenue."
MEAN_LINE = "mean of revenue: 155"


def assert_answer_rendered(notebook) -> None:
    """The model's code, what it printed and its chart are on the page, told apart.

    The code sits in a shaded box labelled "Python" (highlighted by JupyterLab), what it
    printed in a separate, unshaded box labelled "Output": two elements, neither inside
    the other.
    """
    assert notebook.errors() == []
    shown = notebook.outputs().all_inner_texts()
    markdown = ".jp-OutputArea-output.jp-RenderedMarkdown"
    code_box = notebook.page.locator(f"{markdown} .gemini-magic-code")
    assert code_box.count() == 1, shown
    assert code_box.locator(".gemini-magic-label").inner_text() == "Python"
    code = code_box.locator("pre code.language-python")
    assert code.count() == 1, shown
    assert "read_csv" in code.inner_text() and "plot" in code.inner_text()
    assert code.locator("span").count() > 0, "the code block is not syntax-highlighted"

    output_boxes = notebook.page.locator(f"{markdown} .gemini-magic-output")
    assert output_boxes.count() >= 1, shown
    (output_box,) = [
        box for box in output_boxes.all() if MEAN_LINE in box.locator("pre").inner_text()
    ]
    assert output_box.locator(".gemini-magic-label").inner_text() == "Output"
    assert MEAN_LINE not in code_box.inner_text()
    assert code_box.evaluate(
        "(code, output) => !code.contains(output) && !output.contains(code)",
        output_box.element_handle(),
    )
    backgrounds = [
        box.evaluate("el => getComputedStyle(el).backgroundColor") for box in (code_box, output_box)
    ]
    assert backgrounds[0] != backgrounds[1], backgrounds  # the code is shaded, its output not

    figure = notebook.page.locator(PNG_IMAGE)
    assert figure.count() == 1, shown
    assert figure.first.evaluate("img => img.complete && img.naturalWidth > 100")
    assert "offline emulator" in " ".join(shown)


def test_gemini_magic_notebook(notebook, make_notebook, lab_emulator) -> None:
    """A %%gemini cell attaching a DataFrame: code, output and chart render in JupyterLab."""
    name = make_notebook(
        "gemini_magic.ipynb", "python3", ["%load_ext gemini_magic", SALES, f"%%gemini\n{PROMPT}"]
    )
    notebook.open(name)
    notebook.run_all_cells()

    assert_answer_rendered(notebook)
    # The default API: the prompt streamed from the Interactions endpoint.
    assert any(r.path.endswith("/interactions") and r.body.get("stream") for r in lab_emulator.log)
    notebook.screenshot(SCREENSHOT)


def test_gemini_kernel_notebook(notebook, make_notebook, lab_emulator) -> None:
    """The Gemini kernel: a %%py cell defines data, a plain prompt cell analyses it."""
    name = make_notebook("gemini_kernel.ipynb", "gemini", [f"%%py\n{SALES}", PROMPT])
    notebook.open(name)
    assert notebook.kernel_name() == "Gemini"
    notebook.run_all_cells()

    assert_answer_rendered(notebook)
    notebook.screenshot(KERNEL_SCREENSHOT)
