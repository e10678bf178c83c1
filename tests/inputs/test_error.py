"""``--error``: the kernel's last exception read from a real IPython shell, and attached.

The shell is IPython's own test shell; cells are run with ``run_cell`` so the error goes
through ``showtraceback`` exactly as in a notebook.  The last tests go through %%gemini
and read the request log.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gemini_magic.errors import GeminiAPIError, UsageError
from gemini_magic.inputs.error import ErrorAttachment, LastError, last_error_from
from gemini_magic.inputs.prompt import Limits, prepare_prompt
from tests.helpers.magic import run_cell
from tests.helpers.wire import inline_blobs, prompt_requests, user_blocks


@pytest.fixture
def shell() -> Iterator[object]:
    """IPython's test shell with no last error recorded; what the test's cells leave goes."""
    from IPython.testing.globalipapp import get_ipython

    names = ("last_type", "last_value", "last_traceback", "last_exc")
    saved = {name: getattr(sys, name, None) for name in names}
    for name in names:
        setattr(sys, name, None)
    ip = get_ipython()
    before = set(ip.user_ns)
    yield ip
    for name in set(ip.user_ns) - before:
        del ip.user_ns[name]
    for name, value in saved.items():
        setattr(sys, name, value)


def test_no_error_yet_is_a_usage_error(shell: object) -> None:
    with pytest.raises(UsageError) as caught:
        last_error_from(shell)
    assert type(caught.value) is UsageError
    assert "No error has happened yet in this kernel" in caught.value.message
    assert "%%gemini --error" in caught.value.hint


def test_the_last_error_has_type_message_plain_traceback_and_cell_source(shell) -> None:
    shell.run_cell("def ratio(x):\n    return 1 / x\n")
    shell.run_cell("values = [3, 0]\nratio(values[1])\n")
    error = last_error_from(shell)
    assert (error.type_name, error.message) == ("ZeroDivisionError", "division by zero")
    assert error.cell_source == "values = [3, 0]\nratio(values[1])\n"
    assert error.cell_label is not None and error.cell_label.startswith("In[")
    assert "\x1b[" not in error.traceback
    assert error.traceback.startswith("Traceback (most recent call last):\n")
    assert f"Cell {error.cell_label}, line 2, in <module>" in error.traceback
    assert "return 1 / x" in error.traceback
    assert "interactiveshell.py" not in error.traceback  # IPython's own frames are left out
    assert error.traceback.rstrip().endswith("ZeroDivisionError: division by zero")


def test_a_syntax_error_keeps_the_cell_source_and_no_ipython_frames(shell) -> None:
    shell.run_cell("total = (1 +\n")
    error = last_error_from(shell)
    assert error.type_name == "SyntaxError"
    assert error.cell_source == "total = (1 +\n"
    assert "interactiveshell.py" not in error.traceback
    assert "SyntaxError" in error.traceback


def test_ansi_colours_in_a_message_are_removed(shell) -> None:
    shell.run_cell("raise ValueError('\\x1b[31mred\\x1b[0m alert')")
    assert last_error_from(shell).message == "red alert"


def test_a_library_error_has_its_qualified_type(shell) -> None:
    shell.run_cell("import json\njson.loads('{')")
    assert last_error_from(shell).type_name == "json.decoder.JSONDecodeError"


def test_gemini_magics_own_error_is_not_taken_for_the_users(shell) -> None:
    shell.run_cell("1 / 0")
    try:
        raise GeminiAPIError("quota exhausted", code=429)
    except GeminiAPIError:
        shell.showtraceback()
    with pytest.raises(UsageError, match=r"gemini_magic's own \(GeminiAPIError\)") as caught:
        last_error_from(shell)
    assert "Run the cell that fails again" in caught.value.hint


def test_the_error_is_attached_as_a_text_file_the_model_is_told_about(shell) -> None:
    shell.run_cell("import missing_module_xyz")
    error = last_error_from(shell)
    prepared = prepare_prompt("Why did this fail? Fix it.", {}, last_error=error)
    (attachment,) = prepared.attachments
    assert isinstance(attachment, ErrorAttachment)
    assert (attachment.kind, attachment.filename, attachment.mime_type, attachment.name) == (
        "error",
        "last_error.txt",
        "text/plain",
        "--error",
    )
    body = attachment.data.decode()
    assert body.startswith("ModuleNotFoundError: No module named 'missing_module_xyz'\n\nTraceback")
    assert body.endswith(
        f"Source of the cell {error.cell_label} that raised:\nimport missing_module_xyz\n"
    )
    text = attachment.describe()
    assert "`ModuleNotFoundError: No module named 'missing_module_xyz'`" in text
    assert f"from cell {error.cell_label}" in text
    assert "traceback and the source of that cell" in text
    assert prepared.sent_summary() == (
        f"Sent: last_error.txt (error: ModuleNotFoundError, {len(attachment.data)} B) and the "
        "prompt text (26 characters)."
    )


def test_an_error_not_from_a_cell_is_sent_without_a_source() -> None:
    error = LastError("OSError", "disk full", "Traceback (most recent call last):\n...\n")
    prepared = prepare_prompt("why", {}, last_error=error)
    (attachment,) = prepared.attachments
    assert "from cell" not in attachment.describe()
    assert "Source of the cell" not in attachment.data.decode()


def test_the_home_folder_is_not_sent_in_the_traceback(shell) -> None:
    shell.run_cell("import pathlib\npathlib.Path.home().joinpath('no-such-file-xyz').read_text()")
    error = last_error_from(shell)
    assert str(Path.home()) not in error.traceback + error.message
    assert "'~/no-such-file-xyz'" in error.message


def test_an_error_over_the_per_request_cap_is_refused() -> None:
    error = LastError("RecursionError", "too deep", "x" * 2_000)
    with pytest.raises(UsageError, match="max_request_bytes"):
        prepare_prompt("why", {}, last_error=error, limits=Limits(max_request_bytes=1_000))


# --- through %%gemini, on both APIs ------------------------------------------------------


def test_error_attaches_the_last_exception_with_its_cell(any_api, emulator):
    run_cell(any_api, "def ratio(a, b):\n    return a / b\nratio(1, 0)")
    run = run_cell(any_api, "%%gemini --error\nWhy did this fail? Fix it.")
    assert run.success, run.error
    body = json.dumps(prompt_requests(emulator)[-1].body)
    request = prompt_requests(emulator)[-1]
    sent = (
        "".join(b.get("text", "") for b in user_blocks(request))
        if "interactions" in (request.path)
        else b"".join(inline_blobs(request.body, "text/plain")).decode()
    )
    assert "ZeroDivisionError" in sent and "return a / b" in sent
    assert "\x1b[" not in body  # no ANSI colours


def test_error_with_no_error_yet_is_refused(ix, emulator):
    import sys

    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        if hasattr(sys, name):
            delattr(sys, name)
    run = run_cell(ix, "%%gemini --error\nWhy?")
    assert isinstance(run.error, UsageError)
    assert emulator.log == []
