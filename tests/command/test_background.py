"""``%%gemini --background`` in a real IPython kernel (jupyter_client and nbclient).

In a shell without a kernel (terminal IPython, ``ipython script.ipy``) a late output
could not be shown: there ``--background`` runs in the foreground with a one-line note
(the last tests, in an in-process shell).

An in-process shell is a terminal, so everything a background turn promises (outputs in
their own cell while other cells run, order within a conversation, wait, cancel,
interrupt, shutdown, batch runs) is tested here against a real kernel that inherits the
emulator's address from the environment.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from tests.helpers.magic import run_cell
from tests.helpers.reliability import TIMEOUT, Kernel, shown_text
from tests.helpers.wire import input_texts, interaction_requests

WORDS = [f"word{i} " for i in range(120)]
#: A long answer in many small deltas (with the emulator's delay it streams for a while),
#: and short ones.
REPLIES = [
    {"match": "long answer", "parts": [{"text": "Start. "}, *({"text": w} for w in WORDS),
                                       {"text": "The end."}]},
    {"match": "say hello", "parts": [{"text": "Hello!"}]},
    {"match": "say goodbye", "parts": [{"text": "Goodbye!"}]},
    {"match": "compute", "parts": [{"text": "Computing."}, {"code": "print(6 * 7)"}]},
]  # fmt: skip
DELAY = 0.02  # seconds between streamed events: the long answer takes about 2.5 s


class Session(Kernel):
    """A kernel whose IOPub messages are all kept, whatever cell they belong to."""

    def __init__(self, notebook: Path) -> None:
        super().__init__(notebook)
        self.messages: list[dict[str, Any]] = []

    def pump(self, until: Callable[[], bool], timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not until():
            if time.monotonic() > deadline:
                raise TimeoutError(f"not seen within {timeout} s")
            try:
                self.messages.append(self.client.get_iopub_msg(timeout=0.2))
            except Exception:  # queue.Empty
                continue

    def idle(self, msg_id: str) -> bool:
        return any(
            m["parent_header"].get("msg_id") == msg_id
            and m["msg_type"] == "status"
            and m["content"]["execution_state"] == "idle"
            for m in self.messages
        )

    def execute(self, code: str, **kwargs: Any) -> str:
        return self.client.execute(code, **kwargs)

    def run(self, code: str) -> tuple[dict[str, Any], str]:  # type: ignore[override]
        msg_id = self.execute(code)
        self.pump(lambda: self.idle(msg_id))
        while True:
            reply = self.client.get_shell_msg(timeout=TIMEOUT)
            if reply["parent_header"]["msg_id"] == msg_id:
                return reply["content"], self.text(msg_id)

    def of(self, msg_id: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["parent_header"].get("msg_id") == msg_id]

    def text(self, msg_id: str) -> str:
        return shown_text(self.of(msg_id))


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    return tmp_path / "analysis.ipynb"


@pytest.fixture
def kernel(notebook: Path, emulator_with_replies: Any) -> Iterator[Session]:
    emulator_with_replies(REPLIES).delay = DELAY
    session = Session(notebook)
    reply, text = session.run("%load_ext gemini_magic")
    assert reply["status"] == "ok", text
    yield session
    session.stop()


def history(notebook: Path) -> dict[str, list[str]]:
    data = json.loads(notebook.with_name("analysis.gemini-history.json").read_text())
    return {name: [e["prompt"] for e in turns] for name, turns in data["conversations"].items()}


@pytest.mark.slow
def test_outputs_land_in_their_own_cell_while_another_cell_prints(kernel: Session, emulator):
    assert kernel.run("%%gemini\nSay hello.")[0]["status"] == "ok"  # the SDK imported
    started = time.monotonic()
    reply, _ = kernel.run("%%gemini --background\nGive a long answer.")
    returned_in = time.monotonic() - started
    background = kernel.messages[-1]["parent_header"]["msg_id"]
    assert reply["status"] == "ok"
    assert returned_in < 1.5, f"the cell took {returned_in:.2f} s to return"
    loop = (
        "import time\nfor i in range(40):\n    print('tick', i, flush=True)\n    time.sleep(0.05)"
    )
    reply, _ = kernel.run(loop)
    foreground = kernel.messages[-1]["parent_header"]["msg_id"]
    assert reply["status"] == "ok"
    reply, _ = kernel.run("%gemini wait")
    assert reply["status"] == "ok"
    # While the loop ran the answer kept streaming, into its own cell.
    answer = [
        m for m in kernel.messages if m["msg_type"] in ("display_data", "update_display_data")
        and "word" in str(m["content"]["data"])
    ]  # fmt: skip
    assert answer and all(m["parent_header"]["msg_id"] == background for m in answer)
    ticks = [
        m for m in kernel.messages if m["msg_type"] == "stream" and "tick" in m["content"]["text"]
    ]
    assert len(ticks) >= 5 and all(m["parent_header"]["msg_id"] == foreground for m in ticks)
    first_tick, last_tick = kernel.messages.index(ticks[0]), kernel.messages.index(ticks[-1])
    assert any(first_tick < kernel.messages.index(m) < last_tick for m in answer), (
        "not side by side"
    )
    text = kernel.text(background)
    assert "Start." in text and "The end." in text and "offline emulator" in text
    assert "tick" not in text and "word" not in kernel.text(foreground)
    # _gemini is set when the answer is complete, as in the foreground.
    reply, text = kernel.run("print(_gemini.text[-8:])")
    assert "The end." in text


@pytest.mark.slow
def test_turns_of_a_conversation_keep_their_order_others_run_side_by_side(
    kernel: Session, emulator, notebook: Path
):
    first = kernel.execute("%%gemini -b\nGive a long answer.")
    second = kernel.execute("%%gemini -b\nSay hello.")
    other = kernel.execute("%%gemini -b -c side\nSay goodbye.")
    kernel.pump(lambda: kernel.idle(other))
    reply, _ = kernel.run("%gemini wait --all")
    assert reply["status"] == "ok"
    assert "Waiting for the answer in cell [2]" in kernel.text(second)
    assert "Waiting" not in kernel.text(other)
    assert "Hello!" in kernel.text(second) and "Goodbye!" in kernel.text(other)
    # "side" finished first though sent last; "Say hello." followed the long answer.
    done = [m["parent_header"]["msg_id"] for m in kernel.messages if "tokens" in str(m["content"])]
    assert done.index(other) < done.index(first) < done.index(second)
    requests = interaction_requests(emulator)
    hello = next(r for r in requests if input_texts(r.body) == ["Say hello."])
    stored = {i.interaction_id: i for i in emulator.interactions.list()}
    assert "word119" in json.dumps(stored[hello.body["previous_interaction_id"]].resource())
    assert "with it the conversation's 1 earlier turn" in kernel.text(second)
    assert history(notebook) == {
        "default": ["Give a long answer.", "Say hello."],
        "side": ["Say goodbye."],
    }


@pytest.mark.slow
def test_wait_raises_a_background_failure_once_and_its_cell_shows_it(kernel: Session, emulator):
    emulator.inject("status", code=400, message="Invalid argument: bad prompt")
    failed = kernel.execute("%%gemini -b\nSay hello.")
    reply, _ = kernel.run("%gemini wait")
    assert reply["status"] == "error"
    assert reply["ename"] == "GeminiAPIError" and "bad prompt" in reply["evalue"]
    errors = [m for m in kernel.of(failed) if m["msg_type"] == "error"]
    assert errors and errors[0]["content"]["ename"] == "GeminiAPIError"
    reply, text = kernel.run("%gemini wait")
    assert reply["status"] == "ok", text  # raised once
    reply, text = kernel.run("%gemini jobs")
    assert "failed" in text


@pytest.mark.slow
def test_cancel_stops_the_answer_and_records_nothing(kernel: Session, emulator, notebook):
    assert kernel.run("%%gemini\nSay hello.")[0]["status"] == "ok"
    cell = kernel.execute("%%gemini -b\nGive a long answer.")
    kernel.pump(lambda: "word3" in kernel.text(cell))
    reply, text = kernel.run("%gemini cancel")
    assert reply["status"] == "ok" and "Cancelled 1 background prompt" in text
    assert kernel.run("%gemini wait")[0]["status"] == "ok"
    shown = kernel.text(cell)
    assert "Interrupted" in shown and "The end." not in shown
    assert kernel.run("%%gemini\nSay goodbye.")[0]["status"] == "ok"
    assert history(notebook) == {"default": ["Say hello.", "Say goodbye."]}
    last = interaction_requests(emulator)[-1].body
    first_id = min(emulator.interactions.list(), key=lambda i: i.created).interaction_id
    assert last["previous_interaction_id"] == first_id


@pytest.mark.slow
def test_an_interrupt_between_cells_cancels_the_background_answers(kernel: Session, notebook):
    cell = kernel.execute("%%gemini -b\nGive a long answer.")
    kernel.pump(lambda: "word3" in kernel.text(cell))
    kernel.manager.interrupt_kernel()
    reply, text = kernel.run("%gemini wait\n%gemini jobs")
    assert reply["status"] == "ok", text
    assert "cancelled" in text
    assert "Interrupted" in kernel.text(cell) and "The end." not in kernel.text(cell)
    assert kernel.manager.is_alive()


@pytest.mark.slow
def test_interrupting_wait_cancels_what_it_waits_for(kernel: Session):
    cell = kernel.execute("%%gemini -b\nGive a long answer.")
    kernel.pump(lambda: "word3" in kernel.text(cell))
    waiting = kernel.execute("%gemini wait")
    kernel.pump(lambda: any(m["msg_type"] == "execute_input" for m in kernel.of(waiting)))
    time.sleep(0.3)
    kernel.manager.interrupt_kernel()
    kernel.pump(lambda: kernel.idle(waiting))
    text = kernel.text(waiting)
    assert "KeyboardInterrupt" in text and "cancelled 1 background prompt (cell [2])" in text
    assert "Interrupted" in kernel.text(cell) and "The end." not in kernel.text(cell)


@pytest.mark.slow
def test_code_cell_and_output_name_are_set_when_the_answer_is_complete(kernel: Session):
    cell = kernel.execute("%%gemini -b -x -o answer\nCompute it.")
    reply, _ = kernel.run("%gemini wait")
    assert reply["status"] == "ok"
    # -x's new cell travels with the reply of the cell running when the answer completed.
    (payload,) = reply["payload"]
    assert payload["source"] == "set_next_input" and "print(6 * 7)" in payload["text"]
    reply, text = kernel.run("print(answer is _gemini, answer.text)")
    assert "True Computing." in text
    assert "42" in kernel.text(cell)


@pytest.mark.slow
def test_kernel_shutdown_mid_answer_cancels_it_and_leaves_a_valid_history(
    kernel: Session, notebook
):
    assert kernel.run("%%gemini\nSay hello.")[0]["status"] == "ok"
    cell = kernel.execute("%%gemini -b\nGive a long answer.")
    kernel.pump(lambda: "word3" in kernel.text(cell))
    stopping = time.monotonic()
    kernel.manager.shutdown_kernel(now=False)
    assert time.monotonic() - stopping < 10
    assert not kernel.manager.is_alive()
    assert history(notebook) == {"default": ["Say hello."]}
    assert not list(notebook.parent.glob(".*.tmp"))


@pytest.mark.slow
def test_a_batch_run_falls_back_to_the_foreground_and_keeps_every_answer(
    emulator_with_replies: Any, tmp_path: Path
):
    emulator_with_replies(REPLIES)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell(source)
        for source in ("%load_ext gemini_magic", "%%gemini -b\nSay hello.", "%gemini wait")
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[1].outputs
    plain = "\n".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "--background runs in the foreground here: a batch run" in plain
    assert "Hello!" in plain and "offline emulator" in plain


def test_without_a_kernel_background_runs_in_the_foreground_with_a_note(ix, emulator):
    run = run_cell(ix, "%%gemini --background -o answer\nWhat is 2 + 2?")
    assert run.success, run.error
    plain = run.texts()
    assert plain[0] == (
        "--background runs in the foreground here: this front end shows no output that "
        "arrives after its cell ended."
    )
    assert "offline emulator" in plain[-1]
    assert ix.user_ns["answer"] is ix.user_ns["_gemini"]
    assert len(emulator.log) == 1


def test_the_trait_sends_every_prompt_to_the_background_where_it_can(ix, emulator):
    run_cell(ix, "%config GeminiMagics.background = True")
    run = run_cell(ix, "%%gemini\nWhat is 2 + 2?")
    assert run.success and "--background runs in the foreground here" in run.texts()[0]


#: The events of each API's stream up to the answer's first text.
FIRST_TEXT = {"interactions": 7, "generate_content": 1}


def _stalled_answer(kernel: Session, emulator: Any, api: str = "interactions") -> str:
    """Send a background prompt whose stream stalls for 60 s after its first text (the
    model thinking): a cancel cannot wait for the next streamed part."""
    emulator.inject("stall", seconds=60, after=FIRST_TEXT[api])
    cell = kernel.execute("%%gemini -b\nGive a long answer.")
    kernel.pump(lambda: "Start." in kernel.text(cell))
    time.sleep(0.5)
    assert "word0" not in kernel.text(cell)  # stalled
    return cell


def _cancel_requests(emulator: Any) -> list[str]:
    """The cancel requests that reached the emulator (a cancelled worker sends its own
    before it ends, so they are there once ``%gemini wait`` returned)."""
    return [r.path for r in emulator.log if r.path.endswith("/cancel")]


@pytest.mark.slow
@pytest.mark.parametrize("api", ["interactions", "generate_content"])
def test_cancel_ends_a_stalled_answer_at_once(kernel: Session, emulator, notebook, api: str):
    assert kernel.run(f"%config GeminiMagics.api = {api!r}")[0]["status"] == "ok"
    assert kernel.run("%%gemini\nSay hello.")[0]["status"] == "ok"
    cell = _stalled_answer(kernel, emulator, api)
    cancelled = time.monotonic()
    reply, text = kernel.run("%gemini cancel")
    assert reply["status"] == "ok" and "Cancelled 1 background prompt" in text
    reply, text = kernel.run("%gemini wait\n%gemini jobs")
    took = time.monotonic() - cancelled
    assert reply["status"] == "ok", text
    assert took < 10, f"the cancelled turn took {took:.1f} s to end (the stall lasts 60 s)"
    assert "cancelled" in text
    shown = kernel.text(cell)
    assert "Interrupted" in shown and "word0" not in shown
    assert history(notebook) == {"default": ["Say hello."]}
    cancels = _cancel_requests(emulator)
    if api == "interactions":
        newest = max(emulator.interactions.list(), key=lambda i: i.created)
        assert cancels == [f"/v1/interactions/{newest.interaction_id}/cancel"]
        assert newest.resource()["status"] == "cancelled"
    else:
        assert cancels == []


@pytest.mark.slow
def test_kernel_shutdown_mid_stall_ends_the_turn_and_leaves_no_thread(
    kernel: Session, emulator, notebook: Path
):
    left = notebook.with_name("threads-at-exit.txt")
    # Registered before the first background turn, so it runs after the turns were
    # stopped at exit (atexit runs the last registered first).
    names = "sorted(t.name for t in threading.enumerate() if t.name.startswith('gemini-magic'))"
    code = (
        "import atexit, pathlib, threading\n"
        f"atexit.register(lambda: pathlib.Path({str(left)!r}).write_text(repr({names})))"
    )
    assert kernel.run(code)[0]["status"] == "ok"
    assert kernel.run("%%gemini\nSay hello.")[0]["status"] == "ok"
    _stalled_answer(kernel, emulator)
    stopping = time.monotonic()
    kernel.manager.shutdown_kernel(now=False)
    took = time.monotonic() - stopping
    assert not kernel.manager.is_alive()
    assert took < 10, f"the kernel took {took:.1f} s to stop (the stall lasts 60 s)"
    # Written at the very end of the kernel's exit: it stopped by itself, not killed
    # by the manager once its wait ran out, and no turn's thread was left running.
    assert left.exists(), "the kernel was killed before it could exit by itself"
    assert left.read_text() == "[]"
    # The worker told the service before it ended.
    newest = max(emulator.interactions.list(), key=lambda i: i.created)
    assert _cancel_requests(emulator) == [f"/v1/interactions/{newest.interaction_id}/cancel"]
    assert history(notebook) == {"default": ["Say hello."]}
    assert not list(notebook.parent.glob(".*.tmp"))


@pytest.mark.slow
def test_cancel_ends_the_pause_before_a_retry_at_once(kernel: Session, emulator, notebook):
    emulator.inject("status", code=429, retry_after=30)
    cell = kernel.execute("%%gemini -b\nSay hello.")
    kernel.pump(lambda: "Retrying in 30.0 s" in kernel.text(cell))
    cancelled = time.monotonic()
    assert kernel.run("%gemini cancel")[0]["status"] == "ok"
    reply, text = kernel.run("%gemini wait\n%gemini jobs")
    took = time.monotonic() - cancelled
    assert reply["status"] == "ok" and "cancelled" in text, text
    assert took < 10, f"the cancelled turn took {took:.1f} s to end (the pause is 30 s)"
    assert len(interaction_requests(emulator)) == 1  # the retry was never sent
    assert "Hello!" not in kernel.text(cell)
