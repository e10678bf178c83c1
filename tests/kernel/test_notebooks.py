"""Notebooks whose kernelspec is ``gemini``, run by nbclient against the offline emulator.

These are the user's view of the kernel: a plain cell is a prompt whose answer shows
code, output and a figure; a ``%%py`` cell's DataFrame is what the next prompt attaches
with ``{name}``; ``%gemini`` commands and ``%%gemini`` cells share the conversation the
plain prompts build; a failing prompt fails the run; the stop button stops a prompt and
leaves the kernel and its conversation usable.
"""

from __future__ import annotations

import base64
import io
import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from gemini_magic.emulator import Emulator
from tests.helpers.wire import interaction_requests

SALES = (
    "%%py\nimport pandas as pd\n"
    "sales = pd.DataFrame({'month': [1, 2, 3], 'revenue': [10.0, 12.5, 9.0], 'units': [3, 4, 2]})"
)
SALES_FRAME = pd.DataFrame({"month": [1, 2, 3], "revenue": [10.0, 12.5, 9.0], "units": [3, 4, 2]})
ANALYSE = "Plot {sales} and give the mean of each column"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def gemini_notebook(*sources: str) -> nbformat.NotebookNode:
    """A notebook that names the gemini kernelspec, as JupyterLab saves one."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "gemini", "display_name": "Gemini", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    """Run ``nb`` with the kernel its metadata names (no kernel_name override)."""
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def markdown_of(outputs: list[Any]) -> list[str]:
    return [o["data"]["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})]


def prompt_requests(emulator: Emulator) -> list[Any]:
    """The prompts the kernel sent: the Interactions API is the default."""
    return interaction_requests(emulator)


def attached_csvs(body: dict[str, Any]) -> list[pd.DataFrame]:
    """The CSV documents of an Interactions request's new input, read back as DataFrames."""
    frames = []
    for step in body["input"]:
        for block in step.get("content") or []:
            if block.get("type") == "document" and block.get("mime_type") == "text/csv":
                frames.append(pd.read_csv(io.BytesIO(base64.b64decode(block["data"]))))
    return frames


def test_prompt_cell_shows_code_output_and_figure(emulator: Emulator, tmp_path: Path) -> None:
    nb = execute(gemini_notebook(SALES, ANALYSE), tmp_path)
    outputs = nb.cells[1].outputs
    markdown = "\n".join(markdown_of(outputs))
    assert "```python" in markdown  # the code the model ran, highlighted
    assert "read_csv" in markdown
    assert "mean of revenue: 10.5" in markdown  # its execution output
    pngs = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) == 1
    assert base64.b64decode(pngs[0]).startswith(PNG_SIGNATURE)


def test_py_dataframe_is_what_the_next_prompt_attaches(emulator: Emulator, tmp_path: Path) -> None:
    execute(gemini_notebook(SALES, ANALYSE), tmp_path)
    (request,) = prompt_requests(emulator)
    (csv,) = attached_csvs(request.body)
    pd.testing.assert_frame_equal(csv, SALES_FRAME, check_dtype=False)


def test_gemini_commands_share_the_prompts_conversation(emulator: Emulator, tmp_path: Path) -> None:
    nb = execute(
        gemini_notebook(
            SALES,
            ANALYSE,
            "%%gemini --model gemini-3.5-flash\nWhich month had the highest revenue?",
            "%gemini reset",
            "Say hello",
        ),
        tmp_path,
    )
    _first, second, third = prompt_requests(emulator)
    # The %%gemini cell continues the conversation the plain prompt started ...
    assert second.body["model"] == "gemini-3.5-flash"
    assert second.body["previous_interaction_id"]
    # ... and %gemini reset empties it for the next plain prompt.
    assert "reset" in nb.cells[3].outputs[0]["text"]
    assert "previous_interaction_id" not in third.body
    assert markdown_of(nb.cells[4].outputs)


def test_failing_prompt_fails_the_notebook_run(emulator: Emulator, tmp_path: Path) -> None:
    emulator.inject("status", code=400, message="Request contains an invalid argument.")
    nb = gemini_notebook(SALES, ANALYSE, "%%py\nprint('never reached')")
    with pytest.raises(CellExecutionError, match="GeminiAPIError"):
        execute(nb, tmp_path)
    assert nb.cells[2].outputs == []


# --- the stop button -------------------------------------------------------------------


@pytest.fixture
def slow_kernel(emulator: Emulator, tmp_path: Path) -> Iterator[tuple[KernelManager, Any]]:
    """A gemini kernel (emulator env already set) and its client, started in tmp_path."""
    km = KernelManager(kernel_name="gemini")
    km.start_kernel(cwd=str(tmp_path))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def outputs_until_idle(kc: BlockingKernelClient, msg_id: str, first: list[dict]) -> list[dict]:
    """Collect ``msg_id``'s output messages until the kernel is idle again."""
    outputs = first
    while True:
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return outputs
        outputs.append(msg)


def shell_reply(kc: BlockingKernelClient, msg_id: str) -> dict:
    while True:
        msg = kc.get_shell_msg(timeout=60)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg["content"]


def shown_markdown(messages: list[dict]) -> str:
    return "\n".join(
        m["content"]["data"]["text/markdown"]
        for m in messages
        if m["msg_type"] in {"display_data", "update_display_data"}
        and "text/markdown" in m["content"]["data"]
    )


def test_interrupting_a_prompt_keeps_the_kernel_and_conversation(
    emulator: Emulator, slow_kernel: tuple[KernelManager, BlockingKernelClient]
) -> None:
    km, kc = slow_kernel
    assert kc.execute_interactive(SALES, timeout=60)["content"]["status"] == "ok"

    emulator.delay = 1.0  # one second between streamed events: the answer takes many
    msg_id = kc.execute(ANALYSE)
    # Wait until the answer is streaming (its first Markdown part is shown) ...
    seen: list[dict] = []
    while not shown_markdown(seen):
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] != "status":
            seen.append(msg)
    # ... then press stop: Jupyter sends SIGINT (interrupt_mode "signal").
    stopped_at = time.monotonic()
    km.interrupt_kernel()
    messages = outputs_until_idle(kc, msg_id, seen)
    reply = shell_reply(kc, msg_id)
    interrupted_after = time.monotonic() - stopped_at
    print(f"interrupt to reply: {interrupted_after:.2f} s")

    assert reply["status"] == "error"
    assert reply["ename"] == "KeyboardInterrupt"
    assert interrupted_after < 3.0  # the stream stopped at once (SIGINT delivery included)
    # The interrupted interaction is cancelled at the service (in the background).
    deadline = time.monotonic() + 10
    while not [r for r in emulator.log if r.path.endswith("/cancel")]:
        assert time.monotonic() < deadline, "no cancel request reached the service"
        time.sleep(0.1)
    # What was shown stays (nothing cleared it), marked incomplete; the answer stopped
    # early, so its final token-usage footer never came.
    assert not any(m["msg_type"] == "clear_output" for m in messages)
    shown = shown_markdown(messages)
    assert "Interrupted" in shown
    assert "tokens:" not in shown

    # The kernel and its conversation are usable: the next prompt is answered, and the
    # interrupted turn was not kept in the conversation it sends.
    emulator.delay = 0.0
    outputs: list[dict] = []
    done = kc.execute_interactive("Say hello", timeout=60, output_hook=outputs.append)
    assert done["content"]["status"] == "ok"
    assert shown_markdown(outputs)
    assert "previous_interaction_id" not in prompt_requests(emulator)[-1].body
    with pytest.raises(queue.Empty):
        kc.get_shell_msg(timeout=0.1)  # no stray reply left over from the interrupt
