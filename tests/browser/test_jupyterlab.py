"""JupyterLab in headless Chromium: what a user sees after running a notebook.

Three tests.  The plain-Python one checks the harness itself (a broken harness and a
broken product then fail differently); the other two run a ``%%gemini`` notebook and a
Gemini-kernel notebook against the offline emulator and check that the model's code,
its execution output and its chart are rendered in the page, code and output in
separate labelled boxes.  The ``%%gemini`` test saves the screenshot the README shows
(docs/images/jupyterlab-gemini.png).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tests.browser.conftest import PANEL

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "images" / "jupyterlab-gemini.png"
KERNEL_SCREENSHOT = ROOT / "docs" / "images" / "jupyterlab-gemini-kernel.png"
BACKGROUND_SCREENSHOT = ROOT / "docs" / "images" / "jupyterlab-background.png"
REPORT_SCREENSHOT = ROOT / "docs" / "images" / "jupyterlab-long-answer.png"
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


LOOP = (
    "import time\nfor i in range(6):\n    print('still running', i, flush=True)\n"
    "    time.sleep(0.5)"
)


def test_a_background_prompt_streams_while_another_cell_runs(
    notebook, make_notebook, lab_emulator
) -> None:
    """``--background``: the answer lands in its own cell while the next cell prints."""
    lab_emulator.delay = 0.05  # the answer streams while the loop runs
    name = make_notebook(
        "background.ipynb",
        "python3",
        ["%load_ext gemini_magic", SALES, f"%%gemini --background\n{PROMPT}", LOOP, "%gemini wait"],
    )
    notebook.open(name)
    notebook.run_all_cells()

    assert_answer_rendered(notebook)
    cells = notebook.page.locator(f"{PANEL} .jp-CodeCell")
    answer, loop = cells.nth(2), cells.nth(3)
    assert "offline emulator" in answer.inner_text() and "still running" not in answer.inner_text()
    assert "still running 5" in loop.inner_text() and "mean of revenue" not in loop.inner_text()
    # The Cancel button went away when the answer was complete.
    assert answer.locator("button", has_text="Cancel").count() == 0
    notebook.screenshot(BACKGROUND_SCREENSHOT)


REPORT = (
    "## Revenue by month\n\nRevenue rose through the year, with a dip in April.\n\n"
    "- January to March: steady growth\n- April: a dip of 15 %\n- May onwards: growth\n\n"
    "```python\ntotals = sales.groupby('month')['revenue'].sum()\nprint(totals)\n```\n\n"
    "| quarter | revenue |\n|---|---:|\n| Q1 | 350 |\n| Q4 | 625 |\n\n"
    "The last quarter brought the most revenue. That is the whole report."
)
#: The report word by word: one text delta each.
REPORT_REPLIES = [{"match": "report", "parts": [{"text": w} for w in re.split(r"(?<= )", REPORT)]}]


def test_a_long_answer_in_frozen_blocks_reads_as_one(notebook, make_notebook, lab_emulator):
    """Finished blocks are outputs of their own; on the page they read as one document."""
    lab_emulator.set_replies(REPORT_REPLIES)
    name = make_notebook(
        "report.ipynb", "python3", ["%load_ext gemini_magic", "%%gemini\nA report."]
    )
    notebook.open(name)
    notebook.run_all_cells()

    assert notebook.errors() == []
    cell = notebook.page.locator(f"{PANEL} .jp-CodeCell").nth(1)
    pieces = cell.locator(".jp-OutputArea-output.jp-RenderedMarkdown")
    assert pieces.count() >= 5  # heading + paragraph, list, code, table, last paragraph
    text = cell.inner_text()
    for seen in ("Revenue by month", "a dip of 15 %", "groupby", "Q4", "the whole report"):
        assert seen in text
    assert cell.locator("table").count() == 1 and cell.locator("h2").count() == 1
    # One document: consecutive pieces are as close as paragraphs of one output are.
    gaps = cell.evaluate(
        """cell => {
            const boxes = [...cell.querySelectorAll('.jp-OutputArea-child')]
                .map(c => c.getBoundingClientRect());
            return boxes.slice(1).map((b, i) => b.top - boxes[i].bottom);
        }"""
    )
    assert max(gaps) <= 8, gaps
    notebook.screenshot(REPORT_SCREENSHOT)


def test_a_long_answer_reads_as_one_in_nbconverts_html(browser, emulator_with_replies, tmp_path):
    """A notebook run in batch and exported by nbconvert: the pieces read as one answer."""
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    emulator_with_replies(REPORT_REPLIES)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell(s) for s in ("%load_ext gemini_magic", "%%gemini\nA report.")
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    assert len(nb.cells[1].outputs) >= 6  # the note, the pieces, the footer
    page_html, _ = HTMLExporter().from_notebook_node(nb)
    exported = tmp_path / "report.html"
    exported.write_text(page_html)

    page = browser.new_page(viewport={"width": 1000, "height": 900})
    try:
        page.goto(exported.as_uri(), wait_until="domcontentloaded")
        cell = page.locator(".jp-Cell").nth(1)
        text = cell.inner_text()
        order = [text.index(s) for s in ("Revenue by month", "a dip of 15 %", "Q4", "whole report")]
        assert order == sorted(order)
        assert cell.locator("table").count() == 1 and cell.locator("h2").count() == 1
        gaps = cell.evaluate(
            """cell => {
                const boxes = [...cell.querySelectorAll('.jp-OutputArea-child')]
                    .map(c => c.getBoundingClientRect());
                return boxes.slice(1).map((b, i) => b.top - boxes[i].bottom);
            }"""
        )
        assert max(gaps) <= 8, gaps
    finally:
        page.close()
