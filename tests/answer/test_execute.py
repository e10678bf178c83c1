"""Running rebound code in the IPython shell (``gemini_magic.answer.execute``).

The code runs from inside a line magic, as ``%gemini run`` will run it: a cell of the
user's whose magic runs another cell's worth of code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gemini_magic.answer.execute import run_rebound
from gemini_magic.answer.rebind import Binding, Rebound, rebind
from gemini_magic.errors import CodeFailed
from gemini_magic.inputs.prompt import prepare_prompt
from tests.helpers.magic import run_cell

SALES = Binding(("sales.csv", "input_file_0.csv"), "sales")


@pytest.fixture
def rerun(ip: Any) -> Iterator[dict[str, Any]]:
    """A ``%rerun`` magic that runs ``state["rebound"]`` and keeps what it returned."""
    state: dict[str, Any] = {}
    names = ("pd", "plt", "df", "total", "fig", "ax", "x", "y", "sales_2025", "result")
    for name in names:  # the shell is shared: start without what earlier tests imported
        ip.user_ns.pop(name, None)

    def magic(line: str) -> None:
        state["defined"] = run_rebound(ip, state["rebound"])

    ip.register_magic_function(magic, magic_name="rerun")
    yield state
    del ip.magics_manager.magics["line"]["rerun"]
    for name in names:
        ip.user_ns.pop(name, None)


def sales_frame() -> pd.DataFrame:
    return pd.DataFrame({"region": ["n", "s", "e", "w"], "amount": [10, 20, 30, 40]})


def test_the_sum_of_a_sampled_frame_is_printed_over_all_its_rows(
    ip: Any, rerun: dict[str, Any], tmp_path: Path
) -> None:
    ip.user_ns["sales"] = sales_frame()
    attachment = prepare_prompt("{sales}", ip.user_ns, sample=2).attachments[0]
    assert attachment.rows == 2
    code = "import pandas as pd\ndf = pd.read_csv('sales.csv')\nprint('sum', df['amount'].sum())"
    rerun["rebound"] = rebind(code, [Binding.for_attachment(attachment, 0)])
    cell = run_cell(ip, "%rerun")
    assert cell.success, cell.error
    assert "sum 100\n" in cell.stdout
    assert rerun["defined"] == ["pd", "df"]
    assert list(tmp_path.iterdir()) == []  # no CSV copy left in the working folder


def test_a_plotting_answer_shows_its_figure_and_writes_nothing(
    ip: Any, rerun: dict[str, Any], inline: None, tmp_path: Path
) -> None:
    ip.user_ns["sales"] = sales_frame()
    code = (
        "import pandas as pd\nimport matplotlib.pyplot as plt\n"
        "df = pd.read_csv('sales.csv')\n"
        "fig, ax = plt.subplots()\nax.bar(df['region'], df['amount'])\nplt.show()\n"
    )
    rerun["rebound"] = rebind(code, [SALES])
    cell = run_cell(ip, "%rerun")
    assert cell.success, cell.error
    assert len(cell.images()) == 1
    assert {"fig", "ax", "df"} <= set(rerun["defined"])
    assert list(tmp_path.iterdir()) == []


def test_the_last_expression_shows_as_in_a_normal_cell(ip: Any, rerun: dict[str, Any]) -> None:
    ip.user_ns["sales"] = sales_frame()
    code = "import pandas as pd\npd.read_csv('sales.csv')['amount'].max()"
    rerun["rebound"] = rebind(code, [SALES])
    cell = run_cell(ip, "%rerun")
    assert cell.success, cell.error
    assert "40" in cell.stdout
    assert rerun["defined"] == ["pd"]


def test_only_new_or_rebound_names_are_reported(ip: Any, rerun: dict[str, Any]) -> None:
    live = sales_frame()
    ip.user_ns.update(sales=live, x=1, y=[1])
    code = "x = 2\ny.append(2)\n_hidden = 3\nsales['extra'] = 1\n"
    rerun["rebound"] = rebind(code, [SALES])
    assert run_cell(ip, "%rerun").success
    assert rerun["defined"] == ["x"]  # y and sales were changed in place, not rebound
    ip.user_ns.pop("_hidden", None)


def test_a_failing_program_fails_the_cell_after_its_own_traceback(
    ip: Any, rerun: dict[str, Any]
) -> None:
    ip.user_ns["sales"] = sales_frame()
    code = "import pandas as pd\ndf = pd.read_csv('sales.csv')\ntotal = df['amount'].sum() * 2\n"
    code += "result = df['no such column']\n"
    rerun["rebound"] = rebind(code, [SALES])
    cell = run_cell(ip, "%rerun")
    assert not cell.success
    assert isinstance(cell.error, CodeFailed)
    assert isinstance(cell.error.error, KeyError)
    assert cell.error.defined == ["pd", "df", "total"]
    assert "KeyError" in cell.error.message and "Defined before the error: pd, df, total" in (
        cell.error.message
    )
    assert "no such column" in cell.stdout  # the code's own traceback was shown


def test_run_rebound_outside_a_magic_raises_on_failure(ip: Any) -> None:
    with pytest.raises(CodeFailed, match="ZeroDivisionError"):
        run_rebound(ip, Rebound(code="1 / 0\n", bound=(), unbound=()))


def test_the_same_answer_runs_on_this_years_data(ip: Any, rerun: dict[str, Any]) -> None:
    ip.user_ns["sales_2025"] = sales_frame().assign(amount=[1, 2, 3, 4])
    code = "import pandas as pd\ntotal = pd.read_csv('sales.csv')['amount'].sum()\n"
    rerun["rebound"] = rebind(code, [Binding(SALES.filenames, "sales_2025")])
    assert run_cell(ip, "%rerun").success
    assert ip.user_ns["total"] == 10
