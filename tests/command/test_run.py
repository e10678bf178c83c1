"""``%gemini run`` and ``-x`` end to end: scripted answers from the emulator, run here.

The emulator runs each scripted code block for real in its sandbox, on the attached CSV
(``--sample`` rows of it); ``%gemini run`` must then run the same code in the kernel on the
live frame, send nothing and write nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gemini_magic.answer.binding import KINDS
from gemini_magic.answer.rebind import HEADER
from gemini_magic.command.run import _TYPES
from gemini_magic.errors import CodeFailed, UsageError
from tests.helpers.magic import run_cell

SUM = (
    "import pandas as pd\ndf = pd.read_csv('sales.csv')\n"
    "total = df['amount'].sum()\nprint('sum', total)"
)
PLOT = (
    "import pandas as pd\nimport matplotlib.pyplot as plt\n"
    "df = pd.read_csv('sales.csv')\n"
    "fig, ax = plt.subplots()\nax.bar(df['region'], df['amount'])\nplt.show()"
)
REPLIES = [
    {"match": "sum the amounts", "parts": [{"code": SUM}, {"text": "The sum is {output}."}]},
    {"match": "plot the amounts", "parts": [{"code": PLOT}, {"text": "Here is the chart."}]},
    {"match": "just talk", "parts": [{"text": "No code needed."}]},
    {
        "match": "in two steps",
        "parts": [
            {"code": "import pandas as pd\nrows = len(pd.read_csv('sales.csv'))\nprint(rows)"},
            {"code": "import pandas as pd\ntotal = pd.read_csv('sales.csv').amount.sum()"},
        ],
    },
    {
        "match": "retry after an error",
        "parts": [
            {"code": "import pandas as pd\nprint(pd.read_csv('sales.csv')['amt'].sum())"},
            {"code": "import pandas as pd\nprint('fixed', pd.read_csv('sales.csv').amount.sum())"},
        ],
    },
    {
        "match": "first file and",
        "parts": [
            {
                "code": "import pandas as pd\nfirst = pd.read_csv('input_file_0.csv')\n"
                "costs = pd.read_csv('costs.csv')\nprint(len(first), len(costs))"
            }
        ],
    },
    {
        "match": "read another file",
        "parts": [{"code": "import pandas as pd\nprint(pd.read_csv('other.csv'))"}],
    },
]
_NAMES = (
    "pd",
    "plt",
    "df",
    "rows",
    "total",
    "first",
    "costs",
    "fig",
    "ax",
    "sales_2025",
    "q1",
    "not_a_frame",
)


@pytest.fixture
def shell(ip: Any, emulator_with_replies: Any) -> Iterator[Any]:
    """The shell with a 4-row ``sales`` frame and the scripted replies; cleaned up after.

    On generateContent: the scripted code reads ``sales.csv``, a name its sandbox has; on
    Interactions a document has no name, so there the sandbox's run would fail.
    """
    emulator_with_replies(REPLIES)
    for name in _NAMES:
        ip.user_ns.pop(name, None)
    ip.user_ns["sales"] = pd.DataFrame({"region": ["n", "s", "e", "w"], "amount": [10, 20, 30, 40]})
    yield ip
    for name in _NAMES:
        ip.user_ns.pop(name, None)


def ask(shell: Any, line: str, prompt: str) -> Any:
    run = run_cell(shell, f"%%gemini {line}\n{prompt}")
    assert run.success, run.error
    return run


def requests(emulator: Any) -> int:
    return len(emulator.log)


def test_run_prints_the_sum_of_all_rows_after_a_sample(
    shell: Any, emulator: Any, tmp_path: Path
) -> None:
    answered = ask(shell, "--sample 2", "Please sum the amounts of {sales}.")
    sandbox_sum = shell.user_ns["_gemini"].results[0].output
    assert "sum 100" not in sandbox_sum  # the sandbox saw 2 of the 4 rows
    assert "sample of 2 of 4 rows" in answered.all_text()
    sent = requests(emulator)

    run = run_cell(shell, "%gemini run")
    assert run.success, run.error
    assert "sum 100\n" in run.stdout
    assert shell.user_ns["total"] == 100
    shown = run.outputs[0]
    assert "```python\n" + HEADER in shown["text/markdown"]
    assert f"{HEADER} sales.csv -> sales (the whole DataFrame)\n" in shown["text/plain"]
    assert "sales.copy()" in shown["text/plain"]
    assert run.texts()[-1] == "Defined: pd, df, total"
    assert requests(emulator) == sent  # nothing was sent
    assert not list(tmp_path.rglob("*.csv"))  # no CSV copy in the working folder


def test_a_plotting_answer_shows_its_figure_here(
    shell: Any, emulator: Any, inline: None, tmp_path: Path
) -> None:
    ask(shell, "", "Please plot the amounts of {sales}.")
    run = run_cell(shell, "%gemini run")
    assert run.success, run.error
    assert len(run.images()) == 1
    assert {"fig", "ax", "df"} <= set(run.texts()[-1].removeprefix("Defined: ").split(", "))
    assert not list(tmp_path.rglob("*.csv")) and not list(tmp_path.rglob("*.png"))


def test_x_puts_the_rewritten_code_in_the_next_cell(shell: Any, emulator: Any) -> None:
    shell.rl_next_input = None
    ask(shell, "-x --sample 2", "Please sum the amounts of {sales}.")
    inserted = shell.rl_next_input
    assert inserted.split("\n")[0] == f"{HEADER} sales.csv -> sales (the whole DataFrame)"
    assert "read_csv" not in inserted
    assert inserted == shell.user_ns["_gemini"].runnable_code
    sent = requests(emulator)
    shell.user_ns.pop("total", None)
    assert run_cell(shell, inserted).success  # the inserted cell runs here, on all rows
    assert shell.user_ns["total"] == 100
    assert requests(emulator) == sent


def test_a_stored_answer_runs_on_another_frame_of_the_same_kind(shell: Any) -> None:
    ask(shell, "-o q1", "Please sum the amounts of {sales}.")
    ask(shell, "", "Please plot the amounts of {sales}.")
    shell.user_ns["sales_2025"] = shell.user_ns["sales"].assign(amount=[1, 2, 3, 4])
    run = run_cell(shell, "%gemini run q1 sales=sales_2025")
    assert run.success, run.error
    assert "sum 10\n" in run.stdout
    assert "-> sales_2025 (the whole DataFrame)" in run.outputs[0]["text/plain"]
    # The attachment can be named by its file too.
    run = run_cell(shell, "%gemini run sales.csv=sales_2025 q1")
    assert run.success, run.error
    assert "sum 10\n" in run.stdout


def test_blocks_run_in_order_or_one_by_one(shell: Any) -> None:
    ask(shell, "", "Please count and sum {sales} in two steps.")
    run = run_cell(shell, "%gemini run")
    assert run.success, run.error
    assert run.stdout == "4\n"
    assert run.texts()[-1] == "Defined: pd, rows, total"
    assert shell.user_ns["total"] == 100
    for name in ("rows", "total"):
        shell.user_ns.pop(name)
    run = run_cell(shell, "%gemini run -n 2")
    assert run.success, run.error
    assert f"{HEADER} block 2 of 2 only" in run.outputs[0]["text/plain"]
    assert run.stdout == "" and "rows" not in shell.user_ns and shell.user_ns["total"] == 100


def test_a_later_block_uses_what_an_earlier_one_defined(shell: Any) -> None:
    """The blocks run as one program: the second uses the first's import and frame."""
    from google.genai import types

    from gemini_magic.answer.rebind import Binding
    from gemini_magic.answer.response import GeminiResponse

    blocks = ("import pandas as pd\ndf = pd.read_csv('sales.csv')", "print('sum', df.amount.sum())")
    shell.user_ns["_gemini"] = GeminiResponse(
        prompt="{sales}",
        parts=[types.Part(executable_code=types.ExecutableCode(code=c)) for c in blocks],
        model="m",
        bindings=(Binding(("sales.csv", "input_file_0.csv"), "sales"),),
    )
    run = run_cell(shell, "%gemini run")
    assert run.success, run.error
    assert run.stdout == "sum 100\n"


def test_a_block_that_failed_in_the_sandbox_is_left_out(shell: Any) -> None:
    ask(shell, "", "Please retry after an error on {sales}.")
    run = run_cell(shell, "%gemini run")
    assert run.success, run.error
    assert "fixed 100\n" in run.stdout
    assert (
        f"{HEADER} left out block 1: failed in the sandbox (-n 1 runs one)"
        in (run.outputs[0]["text/plain"])
    )
    run = run_cell(shell, "%gemini run -n 1")  # asked for: it runs, and fails here too
    assert isinstance(run.error, CodeFailed)
    assert isinstance(run.error.error, KeyError)
    assert "'amt'" in run.stdout  # the code's own traceback is shown


def test_a_read_that_cannot_be_bound_is_left_and_said(shell: Any) -> None:
    ask(shell, "", "Please read another file than {sales}.")
    code = shell.user_ns["_gemini"].runnable_code
    assert f"{HEADER} no read of an attached file to bind" in code
    assert f"{HEADER} left as is: other.csv" in code
    assert "pd.read_csv('other.csv')" in code
    run = run_cell(shell, "%gemini run")
    assert isinstance(run.error, CodeFailed)
    assert isinstance(run.error.error, FileNotFoundError)


def usage_error(shell: Any, line: str) -> str:
    run = run_cell(shell, line)
    assert isinstance(run.error, UsageError), run.error
    text = "\n".join(run.error._render_traceback_())
    assert len(run.error.message.splitlines()) == 1 and run.error.hint
    assert run.stdout == text + "\n" and not run.outputs  # only the error: nothing ran
    return text


def test_run_before_any_answer(shell: Any) -> None:
    assert "There is no answer to run yet" in usage_error(shell, "%gemini run")


def test_clear_errors_name_what_is_wrong(shell: Any, emulator: Any) -> None:
    ask(shell, "-o q1", "Please sum the amounts of {sales}.")
    shell.user_ns["not_a_frame"] = [1, 2]
    sent = requests(emulator)
    cases = {
        "%gemini run q2": ("no answer named `q2`", "Answers kept here: q1."),
        "%gemini run not_a_frame": ("`not_a_frame` is a list, not an answer", "q1"),
        "%gemini run -n 2": ("has 1 code block: -n takes 1, not 2", "Leave -n out"),
        "%gemini run -n 0": ("-n takes 1, not 0", ""),
        "%gemini run q1 q2": ("Name one answer to run, not 2", "Usage"),
        "%gemini run bogus=sales": (
            "`bogus` is not an attachment of the last answer",
            "Its attachments: sales (sales.csv).",
        ),
        "%gemini run sales=missing": ("`missing` is not defined here.", "a pandas DataFrame"),
        "%gemini run sales=not_a_frame": (
            "`not_a_frame` is a list, but `sales` was attached as a pandas DataFrame",
            "",
        ),
        "%gemini run sales=": ("`sales=` is not a binding", ""),
        "%gemini run 'sales=sales.iloc[0:2]'": ("is not a variable reference", ""),
        "%gemini run sales=sales sales.csv=sales": ("`sales.csv` is bound twice", ""),
    }
    for line, (message, hint) in cases.items():
        text = usage_error(shell, line)
        assert message in text and hint in text, (line, text)
    del shell.user_ns["sales"]
    text = usage_error(shell, "%gemini run q1")
    assert "`sales` (attached as sales.csv) is not defined here any more" in text
    assert "%gemini run sales=VAR" in text
    shell.user_ns["sales"] = "now a str"
    assert "`sales` is now a str, but `sales` was attached as a pandas DataFrame" in (
        usage_error(shell, "%gemini run")
    )
    assert requests(emulator) == sent


def test_an_answer_without_code(shell: Any) -> None:
    ask(shell, "", "Please just talk.")
    assert shell.user_ns["_gemini"].runnable_code is None
    assert "The last answer has no code to run" in usage_error(shell, "%gemini run")


def test_help_says_blocks_count_from_one(shell: Any) -> None:
    run = run_cell(shell, "%gemini run -h")
    assert run.success, run.error
    assert "usage: %gemini run [-n N] [ANSWER] [NAME=VAR ...]" in run.stdout
    assert "1-based" in run.stdout and "NAME=VAR" in run.stdout


def test_every_binding_kind_has_a_type_to_check() -> None:
    assert set(_TYPES) == set(KINDS)


def test_code_that_does_not_parse_here_is_offered_as_it_ran(shell: Any) -> None:
    from google.genai import types

    from gemini_magic.answer.response import GeminiResponse

    code = "import pandas as pd\nprint 'old syntax', pd.read_csv('sales.csv')"
    shell.user_ns["_gemini"] = GeminiResponse(
        prompt="{sales}",
        parts=[types.Part(executable_code=types.ExecutableCode(code=code))],
        model="m",
    )
    offered = shell.user_ns["_gemini"].runnable_code
    assert offered.startswith(f"{HEADER} not rewritten: The answer's code does not parse")
    assert offered.endswith(code + "\n")
    assert "does not parse" in usage_error(shell, "%gemini run")


def test_after_earlier_turns_a_numbered_file_is_not_guessed(shell: Any) -> None:
    """In turn 2 the sandbox's input_file_0.csv is turn 1's sales, not this turn's costs."""
    ask(shell, "", "Please sum the amounts of {sales}.")
    shell.user_ns["costs"] = shell.user_ns["sales"].head(3)
    run = ask(shell, "", "Please compare the first file and {costs}.")
    assert "4 3" in run.all_text()  # in the sandbox, input_file_0.csv was sales
    code = shell.user_ns["_gemini"].runnable_code
    assert code.startswith(f"{HEADER} costs.csv -> costs (the whole DataFrame)\n")
    assert "left as is: input_file_0.csv" in code


def test_the_note_says_when_the_code_replaced_the_attached_variable(shell: Any) -> None:
    from google.genai import types

    from gemini_magic.answer.rebind import Binding
    from gemini_magic.answer.response import GeminiResponse

    code = (
        "import pandas as pd\nsales = pd.read_csv('sales.csv')\nsales['double'] = sales.amount * 2"
    )
    live = shell.user_ns["sales"]
    shell.user_ns["_gemini"] = GeminiResponse(
        prompt="{sales}",
        parts=[types.Part(executable_code=types.ExecutableCode(code=code))],
        model="m",
        bindings=(Binding(("sales.csv", "input_file_0.csv"), "sales"),),
    )
    run = run_cell(shell, "%gemini run")
    assert run.success, run.error
    assert run.texts()[-1] == "Defined: sales (replaces your attached object), pd"
    assert "double" in shell.user_ns["sales"] and "double" not in live  # a copy changed
    # Run on another frame, the code still assigns `sales`: the note says so.
    shell.user_ns["sales_2025"] = live.assign(amount=[1, 2, 3, 4])
    run = run_cell(shell, "%gemini run sales=sales_2025")
    assert run.texts()[-1] == "Defined: sales (replaces your attached object)"
    assert shell.user_ns["sales"]["amount"].sum() == 10


def test_a_series_binds_only_to_a_series(shell: Any) -> None:
    shell.user_ns["amounts"] = shell.user_ns["sales"]["amount"]
    try:
        ask(shell, "", "Please read another file than {amounts}.")
        text = usage_error(shell, "%gemini run amounts=sales")
        assert "`sales` is a DataFrame, but `amounts` was attached as a pandas Series" in text
    finally:
        shell.user_ns.pop("amounts")
