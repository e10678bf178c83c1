"""Shell (bash) steps through ``%%gemini`` on the Interactions API, on the emulator.

A bash step shows labelled **Bash** and fenced as shell; its result, a list of text and
image contents, shows like any output; ``%gemini run`` refuses it in one line; it
survives the history file and goes back to the service as a bash step.
"""

from __future__ import annotations

import warnings

import pytest

from gemini_magic.errors import UsageError
from tests.emulator.test_shell import SHELL
from tests.helpers.magic import run_cell
from tests.helpers.wire import interaction_requests

MIXED = [
    {
        "match": "both",
        "parts": [
            {"code": "print(2 + 2)"},
            {"bash": "echo shell"},
            {"text": "Done."},
        ],
    },
    *SHELL,
]


@pytest.fixture
def shell_replies(emulator_with_replies):
    return emulator_with_replies(MIXED)


def test_a_bash_step_is_labelled_bash_and_its_content_list_shown(ix, shell_replies):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "BASH is not a valid Language" for the user
        run = run_cell(ix, "%%gemini\nlist the files")
    assert run.success, run.error
    markdown = "\n".join(run.texts("text/markdown"))
    plain = "\n".join(run.texts())
    assert ">Bash</div>" in markdown and "```bash\nls && echo" in markdown
    assert "Bash:\n    ls && echo" in plain and "Python" not in plain
    answer = ix.user_ns["_gemini"]
    assert answer.results[0].ok and answer.results[0].output == "listed\n"
    assert len(answer.images) == 1 and answer.images[0].data.startswith(b"\x89PNG")
    assert "<image/png" in plain


def test_run_refuses_a_bash_block_in_one_line_naming_it(ix, shell_replies):
    assert run_cell(ix, "%%gemini\nboth").success
    refused = run_cell(ix, "%gemini run")
    assert isinstance(refused, object) and isinstance(refused.error, UsageError)
    assert str(refused.error).splitlines()[0] == (
        "Block 2 of the answer is Bash, not Python: %gemini run runs Python only; nothing was run."
    )
    assert "%gemini run -n 1" in str(refused.error)
    only_python = run_cell(ix, "%gemini run -n 1")
    assert only_python.success, only_python.error
    assert "4" in only_python.stdout


def test_a_bash_step_goes_back_as_bash_and_survives_the_history_file(ix, shell_replies, tmp_path):
    assert run_cell(ix, "%config GeminiMagics.store = False").success
    assert run_cell(ix, "%%gemini\nlist the files").success
    path = tmp_path / "history.json"
    assert run_cell(ix, f"%gemini save {path}").success
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run_cell(ix, f"%gemini load {path}").success
    assert run_cell(ix, "%%gemini\nThanks.").success
    steps = interaction_requests(shell_replies)[-1].body["input"]
    [call] = [s for s in steps if s["type"] == "code_execution_call"]
    assert call["arguments"]["language"] == "bash"
