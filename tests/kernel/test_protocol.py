"""The Gemini kernel as a Jupyter front end sees it, over ZMQ, with no prompt answered.

The first part is jupyter_kernel_test's protocol suite (hello world, errors, rich
output, history, is_complete and completion samples) with the ``gemini`` kernelspec;
the second part checks the routing a notebook user relies on: ``%%py`` shares the
namespace, magics and ``!`` run as in IPython, silent requests are not prompts, and a
prompt that fails makes the cell fail.  Prompts that reach the emulator are in
tests/kernel/test_notebooks.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import jupyter_kernel_test
import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

KERNEL_NAME = "gemini"
TIMEOUT = 60


class GeminiKernelProtocolTests(jupyter_kernel_test.KernelTests):
    """jupyter_kernel_test's checks; Python runs behind ``%%py``, prompts are plain cells."""

    kernel_name = KERNEL_NAME
    language_name = "python"
    file_extension = ".py"

    code_hello_world = "%%py\nprint('hello, world')"
    code_stderr = "%%py\nimport sys\nprint('careful', file=sys.stderr)"
    code_generate_error = "%%py\nraise ValueError('boom')"
    code_execute_result = [  # noqa: RUF012 (the base class declares these as class lists)
        {"code": "%%py\n6 * 7", "result": "42"},
        {"code": "%%py\n'ab' * 2", "result": "'abab'"},
    ]
    code_display_data = [  # noqa: RUF012
        {
            "code": "%%py\nfrom IPython.display import HTML, display\ndisplay(HTML('<b>hi</b>'))",
            "mime": "text/html",
        },
    ]
    code_page_something = "%%py\nprint?"
    code_inspect_sample = "%%py\nprint"
    code_clear_output = "%%py\nfrom IPython.display import clear_output\nclear_output()"
    # The history keeps cells as typed, so a recalled %%py cell runs as Python again.
    code_history_pattern = "*6 * 7"
    # ("range" is left out: IPython reports the current session as 0, which the suite
    # does not expect from any IPython kernel.)
    supported_history_operations = ("tail", "search")

    complete_code_samples = [  # noqa: RUF012
        "Plot {sales} by month",
        "for each region:",  # a prompt, though IPython would wait for a block
        "%%py\nx = 1",
        "%%py\nfor i in range(3):\n    print(i)\n",
        "%gemini reset",
        "",
    ]
    incomplete_code_samples = [  # noqa: RUF012
        "%%py",
        "%%py\nfor i in range(3):",
        "%%py\ntotal = (1 +",
    ]
    invalid_code_samples = ["%%py\nx = )"]  # noqa: RUF012

    completion_samples = [  # noqa: RUF012
        {"text": "Plot {sal", "matches": {"sales", "salaries"}},
        {"text": "Plot {", "matches": {"sales", "salaries", "region_count"}},
        {"text": "Plot {sales} and", "matches": set()},
        {"text": "%%gemini --model gemini-2.5-flash\nCompare {reg", "matches": {"region_count"}},
        {"text": "%%py\nsales.startsw", "matches": {"startswith"}},
        {"text": "%%py\nimport collections\ncollections.OrderedD", "matches": {"OrderedDict"}},
    ]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        # Variables the completion samples offer; a module, a class and a function are
        # not data to attach, so "{" must not offer them.
        reply = cls.kc.execute_interactive(
            "%%py\nimport pandas as pd\nfrom collections import Counter\n"
            "def summarise(): pass\n"
            "sales = 'csv'\nsalaries = [1, 2]\nregion_count = 3",
            timeout=TIMEOUT,
        )
        assert reply["content"]["status"] == "ok", reply["content"]


def _kernel_env() -> dict[str, str]:
    """The test environment without any Gemini key or endpoint: no prompt can succeed."""
    hidden = {"GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL"}
    return {k: v for k, v in os.environ.items() if k not in hidden}


@pytest.fixture(scope="module")
def kernel() -> Iterator[BlockingKernelClient]:
    km = KernelManager(kernel_name=KERNEL_NAME)
    km.start_kernel(env=_kernel_env())
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def run(kc: BlockingKernelClient, code: str, **kwargs: Any) -> tuple[dict, list[dict]]:
    """Execute ``code``; return the reply content and the output messages it produced."""
    outputs: list[dict] = []

    def keep(msg: dict) -> None:
        if msg["msg_type"] in {"stream", "display_data", "execute_result", "error"}:
            outputs.append(msg)

    reply = kc.execute_interactive(code, timeout=TIMEOUT, output_hook=keep, **kwargs)
    return reply["content"], outputs


def text_of(outputs: list[dict]) -> str:
    """All plain text the outputs show, streams and results alike."""
    parts = []
    for msg in outputs:
        content = msg["content"]
        if msg["msg_type"] == "stream":
            parts.append(content["text"])
        elif msg["msg_type"] == "error":
            parts.append("\n".join(content["traceback"]))
        else:
            parts.append(content["data"].get("text/plain", ""))
    return "".join(parts)


def test_banner_says_how_cells_are_routed(kernel: BlockingKernelClient) -> None:
    info = kernel.kernel_info(reply=True, timeout=TIMEOUT)["content"]
    assert "every cell is a prompt" in info["banner"]
    assert "%%py" in info["banner"]
    # Still Python to front ends: highlighting and export as a .py script.
    assert info["language_info"]["name"] == "python"
    assert info["language_info"]["nbconvert_exporter"] == "python"


def test_py_cells_share_one_namespace(kernel: BlockingKernelClient) -> None:
    reply, _ = run(kernel, "%%py\nimport pandas as pd\ndf = pd.DataFrame({'a': [1, 2, 3]})")
    assert reply["status"] == "ok"
    reply, outputs = run(kernel, "%%py\nprint(int(df['a'].sum()))")
    assert reply["status"] == "ok"
    assert text_of(outputs) == "6\n"


def test_magics_and_shell_commands_run_as_in_ipython(kernel: BlockingKernelClient) -> None:
    reply, outputs = run(kernel, "!echo from-the-shell")
    assert reply["status"] == "ok"
    assert "from-the-shell" in text_of(outputs)

    reply, outputs = run(kernel, "%%capture captured\nprint('hidden')")
    assert reply["status"] == "ok"
    assert outputs == []
    _, outputs = run(kernel, "%%py\nprint(captured.stdout.strip())")
    assert text_of(outputs) == "hidden\n"


def test_gemini_line_magic_runs(kernel: BlockingKernelClient) -> None:
    reply, outputs = run(kernel, "%gemini reset")
    assert reply["status"] == "ok"
    assert "reset" in text_of(outputs)


def _figure_formats(outputs: list[dict]) -> set[str]:
    return {mime for m in outputs for mime in m["content"].get("data", {}) if "image" in mime}


def test_py_cell_plots_inline_and_config_changes_the_format(kernel: BlockingKernelClient) -> None:
    plot = "%%py\nimport matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()"
    reply, outputs = run(kernel, plot)
    assert reply["status"] == "ok"
    assert _figure_formats(outputs) == {"image/png"}

    reply, _ = run(kernel, "%config InlineBackend.figure_formats = ['svg']")
    assert reply["status"] == "ok"
    try:
        _, outputs = run(kernel, plot)
        assert _figure_formats(outputs) == {"image/svg+xml"}
    finally:
        run(kernel, "%config InlineBackend.figure_formats = ['png']")


def test_empty_cell_does_nothing(kernel: BlockingKernelClient) -> None:
    before, _ = run(kernel, "%%py\n1")
    reply, outputs = run(kernel, "  \n")
    after, _ = run(kernel, "%%py\n1")
    assert reply["status"] == "ok"
    assert outputs == []
    # Nothing ran: the empty cell did not even take an execution count.
    assert after["execution_count"] == before["execution_count"] + 1


def test_silent_requests_are_not_prompts(kernel: BlockingKernelClient) -> None:
    # Front ends send helper code silently; routed as a prompt it would fail (no key).
    reply, _ = run(kernel, "silent_value = 41 + 1", silent=True)
    assert reply["status"] == "ok"
    _, outputs = run(kernel, "%%py\nprint(silent_value)")
    assert text_of(outputs) == "42\n"


def test_py_error_fails_the_cell(kernel: BlockingKernelClient) -> None:
    reply, _ = run(kernel, "%%py\n1 / 0")
    assert reply["status"] == "error"
    assert reply["ename"] == "ZeroDivisionError"


def test_failing_prompt_fails_the_cell_and_kernel_lives_on(kernel: BlockingKernelClient) -> None:
    # No key in the kernel's environment: the magic raises, the reply must say "error"
    # (so nbval / nbclient runs fail) and the error names what to do.
    reply, outputs = run(kernel, "Summarise {df}")
    assert reply["status"] == "error"
    assert reply["ename"] == "ConfigurationError"
    assert "GEMINI_API_KEY" in text_of(outputs)
    reply, outputs = run(kernel, "%%py\nprint(len(df))")
    assert reply["status"] == "ok"
    assert text_of(outputs) == "3\n"


def test_unknown_magic_is_reported_by_ipython(kernel: BlockingKernelClient) -> None:
    # "%%py extra" is not the escape: IPython says the magic does not exist.
    reply, _ = run(kernel, "%%py extra\nx = 1")
    assert reply["status"] == "error"
    assert "py" in reply["evalue"]


def test_py_cells_in_history_keep_their_escape(kernel: BlockingKernelClient) -> None:
    run(kernel, "%%py\nhistory_marker = 'kept'")
    reply = kernel.history(hist_access_type="tail", n=1, raw=True, output=False, reply=True)
    assert reply["content"]["history"][-1][2] == "%%py\nhistory_marker = 'kept'"


def test_prompts_go_to_the_background_with_the_same_option(kernel: BlockingKernelClient) -> None:
    # No key here: the background turn fails in its thread, and `%gemini wait` raises it
    # as the foreground prompt would have; the prompt cell itself returned at once.
    reply, _ = run(kernel, "%config GeminiMagics.background = True")
    try:
        reply, outputs = run(kernel, "Summarise {df}")
        assert reply["status"] == "ok", text_of(outputs)
        reply, outputs = run(kernel, "%gemini wait")
        assert reply["status"] == "error"
        assert reply["ename"] == "ConfigurationError"
        reply, outputs = run(kernel, "%%gemini -b\nSummarise {df}")
        assert reply["status"] == "ok", text_of(outputs)
        reply, outputs = run(kernel, "%gemini wait")
        assert reply["ename"] == "ConfigurationError"
    finally:
        run(kernel, "%config GeminiMagics.background = False")
