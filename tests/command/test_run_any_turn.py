"""``%gemini run`` on any turn: the files of earlier turns are bound too, on both APIs.

The sandbox keeps a conversation's files and numbers them across turns
(``input_file_0.csv`` is the first turn's file), so an answer may read a file attached
turns ago, by its number or its name; ``%gemini run`` binds each to its live object.
"""

from __future__ import annotations

import pandas as pd
import pytest

from gemini_magic.answer.rebind import HEADER
from tests.helpers.magic import run_cell

READS = [
    {
        "match": "compare",
        "parts": [
            {
                "code": "import pandas as pd\n"
                "a = pd.read_csv('input_file_0.csv')\n"
                "b = pd.read_csv('input_file_1.csv')\n"
                "print(len(a), len(b))"
            },
            {"text": "Lengths: {output}."},
        ],
    },
    {
        "match": "sum",
        "parts": [
            {"code": "import pandas as pd\nprint(pd.read_csv('sales.csv').amount.sum())"},
            {"text": "Sum: {output}."},
        ],
    },
]


@pytest.fixture(params=["interactions", "generate_content"])
def shell(request, ix, emulator_with_replies):
    ix.magics_manager.registry["GeminiMagics"].api = request.param
    emulator_with_replies(READS)
    ix.user_ns["sales"] = pd.DataFrame({"amount": [10, 20, 30, 40]})
    ix.user_ns["costs"] = pd.DataFrame({"amount": [1, 2, 3]})
    yield ix
    ix.user_ns.pop("costs", None)


def _ask(shell, source: str, cell_id: str | None = None):
    run = run_cell(shell, source, cell_id=cell_id)
    assert run.success, run.error
    return run


def _run(shell) -> str:
    ran = run_cell(shell, "%gemini run")
    assert ran.success, ran.error
    return ran.stdout


def test_an_earlier_turns_file_is_bound_by_its_number(shell):
    _ask(shell, "%%gemini --sample 2\nPlease sum {sales}.")
    assert "100" in _run(shell)  # all four rows here, two in the sandbox
    run = _ask(shell, "%%gemini\nPlease compare the first file and {costs}.")
    assert "Lengths: 2 3." in run.all_text()  # the sandbox had turn 1's sample
    code = shell.user_ns["_gemini"].runnable_code
    assert code.startswith(
        f"{HEADER} input_file_0.csv -> sales (the whole DataFrame); "
        "input_file_1.csv -> costs (the whole DataFrame)\n"
    )
    assert "4 3" in _run(shell)  # here, on the live objects


def test_names_stay_the_same_after_a_rerun_a_restore_and_new(shell, tmp_path):
    _ask(shell, "%%gemini\nPlease sum {sales}.", cell_id="c1")
    _ask(shell, "%%gemini\nPlease compare the first file and {costs}.", cell_id="c2")
    first = shell.user_ns["_gemini"].runnable_code
    _ask(shell, "%%gemini\nPlease compare the first file and {costs}.", cell_id="c2")
    assert shell.user_ns["_gemini"].runnable_code == first  # a re-run cell
    # A restored history (as after a kernel restart): the records come back with it.
    path = tmp_path / "history.json"
    _ask(shell, f"%gemini save {path}")
    _ask(shell, "%gemini reset --all")
    _ask(shell, f"%gemini load {path}")
    _ask(shell, "%%gemini\nPlease compare the first file and {costs}.", cell_id="c2")
    assert shell.user_ns["_gemini"].runnable_code == first
    assert "4 3" in _run(shell)
    # --new: the conversation starts again, and so does the numbering.
    _ask(shell, "%%gemini --new\nPlease sum {costs}.")
    run = _ask(shell, "%%gemini\nPlease compare the first file and {sales}.")
    assert "Lengths: 3 4." in run.all_text()
    assert shell.user_ns["_gemini"].runnable_code.startswith(
        f"{HEADER} input_file_0.csv -> costs (the whole DataFrame); "
        "input_file_1.csv -> sales (the whole DataFrame)\n"
    )


def test_a_name_attached_twice_means_the_latest_file(shell):
    _ask(shell, "%%gemini\nPlease sum {sales}.")
    shell.user_ns["sales_2"] = shell.user_ns["sales"]
    answer = shell.user_ns["_gemini"]
    _ask(shell, "%%gemini\nPlease sum {sales} again.")
    bindings = shell.user_ns["_gemini"].bindings
    assert [b.filenames for b in bindings] == [
        ("input_file_0.csv",),
        ("sales.csv", "input_file_1.csv"),
    ]
    assert answer.bindings[0].filenames == ("sales.csv", "input_file_0.csv")
    shell.user_ns.pop("sales_2")
