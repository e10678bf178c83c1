"""%%gemini in a real IPython kernel: a real interrupt, a SIGKILL mid-turn, a bad history.

The kernel is the stock ``python3`` one with ``%load_ext gemini_magic``; it inherits the
emulator's address and a test key from the environment, and ``JPY_SESSION_NAME`` (what
Jupyter Server tells a kernel about its notebook) points into a temporary folder so the
autosaved conversation lands there.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.reliability import REPLIES, TIMEOUT, Kernel, shown_text
from tests.helpers.wire import input_texts, interaction_requests

#: Stream events before the stall: on the Interactions API (the default) the story's first
#: words come after interaction.created, the status update, the thought step and the start
#: of the model_output step, a few words per text delta.
STALL_AFTER = 10

pytestmark = pytest.mark.slow


def shows(text: str) -> Any:
    def seen(msg: dict[str, Any]) -> bool:
        data = msg["content"].get("data", {})
        return text in str(data.get("text/markdown", "")) + str(data.get("text/plain", ""))

    return seen


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    return tmp_path / "analysis.ipynb"


@pytest.fixture
def kernels(notebook: Path) -> Iterator[Any]:
    started: list[Kernel] = []

    def start() -> Kernel:
        kernel = Kernel(notebook)
        started.append(kernel)
        return kernel

    yield start
    for kernel in started:
        kernel.stop()


@pytest.fixture
def emu(emulator_with_replies):
    return emulator_with_replies(REPLIES)


def history_file(notebook: Path) -> Path:
    return notebook.with_name("analysis.gemini-history.json")


def saved_prompts(notebook: Path) -> list[str]:
    data = json.loads(history_file(notebook).read_text())
    return [e["prompt"] for e in data["conversations"]["default"]]


def test_interrupt_stops_the_stream_keeps_the_partial_answer_and_the_kernel(kernels, emu, notebook):
    kernel = kernels()
    reply, _ = kernel.run("%load_ext gemini_magic")
    assert reply["status"] == "ok"
    reply, text = kernel.run("%%gemini\nSay hello.")
    assert reply["status"] == "ok", text
    emu.inject("stall", seconds=120, after=STALL_AFTER)
    msg_id = kernel.submit("%%gemini\nTell a story.")
    before, idle = kernel.collect(msg_id, until=shows("Once upon a time"))
    assert not idle, "the answer finished before the interrupt"
    interrupted_at = time.monotonic()
    kernel.manager.interrupt_kernel()
    after, _ = kernel.collect(msg_id)
    stopped_in = time.monotonic() - interrupted_at
    print(f"\ninterrupt to idle: {stopped_in:.2f} s")
    reply = kernel.client.get_shell_msg(timeout=TIMEOUT)["content"]
    assert reply["status"] == "error"
    assert reply["ename"] == "KeyboardInterrupt"
    assert stopped_in < 5, f"the request took {stopped_in:.1f} s to stop"
    text = shown_text(before + after)
    assert "Once upon a time" in text and "The end." not in text
    assert "Interrupted" in text and "not added to the conversation" in text
    assert kernel.manager.is_alive()
    reply, text = kernel.run("%%gemini\nSay goodbye.")
    assert reply["status"] == "ok", text
    assert "Goodbye!" in text
    # The interrupted turn was not kept: "Say goodbye." follows "Say hello." at the service.
    last = interaction_requests(emu)[-1].body
    assert input_texts(last) == ["Say goodbye."]
    assert last["previous_interaction_id"] == _stored(emu)[0].interaction_id
    assert saved_prompts(notebook) == ["Say hello.", "Say goodbye."]


def test_sigkill_mid_turn_then_a_new_kernel_resumes_every_completed_turn(kernels, emu, notebook):
    first = kernels()
    assert first.run("%load_ext gemini_magic")[0]["status"] == "ok"
    for prompt in ("Say hello.", "Tell a story."):
        reply, text = first.run(f"%%gemini\n{prompt}")
        assert reply["status"] == "ok", text
    assert saved_prompts(notebook) == ["Say hello.", "Tell a story."]
    emu.inject("stall", seconds=120, after=STALL_AFTER)
    msg_id = first.submit("%%gemini\nTell a story once more.")
    _, idle = first.collect(msg_id, until=shows("Once upon a time"))
    assert not idle
    os.kill(first.pid, signal.SIGKILL)
    first.manager.provisioner.process.wait(timeout=TIMEOUT)
    assert not first.manager.is_alive()
    first.stop()

    assert saved_prompts(notebook) == ["Say hello.", "Tell a story."]
    assert not list(notebook.parent.glob(".*.tmp")), "a temporary file was left behind"

    second = kernels()
    reply, text = second.run("%load_ext gemini_magic")
    assert reply["status"] == "ok", text
    assert "resumed 2 turn(s) of conversation from analysis.gemini-history.json" in text
    reply, text = second.run("%%gemini\nSay goodbye.")
    assert reply["status"] == "ok", text
    # The new kernel continues the chain from the resumed history's last interaction.
    last = interaction_requests(emu)[-1].body
    assert input_texts(last) == ["Say goodbye."]
    assert last["previous_interaction_id"] == _stored(emu)[1].interaction_id
    assert saved_prompts(notebook) == ["Say hello.", "Tell a story.", "Say goodbye."]


def test_corrupted_history_is_moved_aside_with_a_clear_error_then_a_fresh_start(
    kernels, emu, notebook
):
    damaged = '{"format": "gemini-magic-conversations", "version": 1, "conversations": {'
    history_file(notebook).write_text(damaged)
    kernel = kernels()
    reply, text = kernel.run("%load_ext gemini_magic")
    assert reply["status"] == "ok", text
    assert "resumed" not in text
    reply, text = kernel.run("%%gemini\nSay hello.")
    assert reply["status"] == "error"
    assert reply["ename"] == "HistoryError"
    assert "not valid JSON" in text and "moved to" in text
    assert emu.log == []
    (aside,) = notebook.parent.glob("analysis.gemini-history.json.unreadable-*")
    assert aside.read_text() == damaged
    reply, text = kernel.run("%%gemini\nSay hello.")
    assert reply["status"] == "ok", text
    assert saved_prompts(notebook) == ["Say hello."]
    assert aside.read_text() == damaged


def _stored(emu: Any) -> list[Any]:
    """The interactions the emulator stored, oldest first."""
    return sorted(emu.interactions.list(), key=lambda i: i.created)
