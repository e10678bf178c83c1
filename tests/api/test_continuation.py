"""Continuation hops through ``%%gemini``: an answer past the decode limit, on the emulator.

The emulator's ``continuation`` fault cuts the answer into hops the way the service does
(``requires_continuation`` + ``continuation_token``); the real SDK continues them.  The
user sees the answer whole and once, usage summed, the hops named in the footer; the
next turn follows the last hop; a failed hop is a clear error and nothing is recorded.
"""

from __future__ import annotations

import time

import pytest

from gemini_magic.display.stream import StreamView
from gemini_magic.errors import GeminiAPIError
from gemini_magic.models import DEFAULT_MODEL
from gemini_magic.settings import TurnSettings
from gemini_magic.turn import TurnInput, run_turn
from tests.helpers.interaction import REPLIES
from tests.helpers.magic import run_cell
from tests.helpers.wire import interaction_requests

PLOT = "%%gemini{options}\nplot it"


def _ask(ix, options: str = ""):
    run = run_cell(ix, PLOT.format(options=options))
    assert run.success, run.error
    return run, ix.user_ns["_gemini"]


@pytest.fixture
def plot(emulator_with_replies):
    return emulator_with_replies(REPLIES)


@pytest.mark.parametrize("options", ["", " --no-stream"])
def test_an_answer_in_hops_shows_whole_and_once_with_usage_summed(ix, plot, options):
    _, whole = _ask(ix, options + " --new")
    plot.reset()
    plot.set_replies(REPLIES)
    plot.inject("continuation", hops=3)
    run, answer = _ask(ix, options + " --new")

    assert answer.text == whole.text and answer.code == whole.code
    assert len(answer.images) == len(whole.images) == 1
    shown = "\n".join(run.texts())
    assert shown.count("The total is 6.") == 1 and shown.count("print(1 + 2 + 3)") == 1
    assert "3 hops past the decode limit (each re-billed the input; usage summed)" in shown
    assert answer.hops == 3
    assert answer.usage.prompt_token_count == 3 * whole.usage.prompt_token_count
    # The next turn follows the last hop.
    hops = [i.interaction_id for i in sorted(plot.interactions.list(), key=lambda i: i.created)]
    assert run_cell(ix, "%%gemini\nThanks.").success
    assert interaction_requests(plot)[-1].body["previous_interaction_id"] == hops[-1]


def test_store_false_hops_resend_the_input_and_the_next_turn_resends_the_answer(ix, plot):
    assert run_cell(ix, "%config GeminiMagics.store = False").success
    plot.inject("continuation", hops=2)
    _, answer = _ask(ix)
    assert answer.hops == 2
    first, second = interaction_requests(plot)
    assert second.body["input"] == first.body["input"] and second.body["continuation_token"]
    assert run_cell(ix, "%%gemini\nThanks.").success
    steps = interaction_requests(plot)[-1].body["input"]
    said = [c["text"] for s in steps if s["type"] == "model_output" for c in s["content"]]
    assert "".join(said).count("The total is 6.") == 1
    assert plot.interactions.list() == []


@pytest.mark.parametrize("options", ["", " --no-stream"])
def test_a_hop_failing_after_progress_is_a_clear_error_and_not_recorded(ix, plot, options):
    plot.inject("continuation", hops=2)
    plot.inject("status", code=400, message="The decode could not be continued.")
    run = run_cell(ix, PLOT.format(options=options))
    assert isinstance(run.error, GeminiAPIError)
    first_line = str(run.error).splitlines()[0]
    assert "went past the decode limit and its continuation failed" in first_line
    assert "The decode could not be continued." in first_line
    assert len(interaction_requests(plot)) == 2  # neither retried nor repaired
    assert run_cell(ix, "%%gemini\nAgain.").success
    assert "previous_interaction_id" not in interaction_requests(plot)[-1].body


class _InterruptAtResult(StreamView):
    """A view whose user presses stop when the code's result arrives."""

    def add(self, part) -> None:
        if part.code_execution_result is not None:
            raise KeyboardInterrupt
        super().add(part)


def test_an_interrupt_during_a_hop_cancels_that_hop(ix, plot):
    plot.inject("continuation", hops=2)
    session = ix.magics_manager.registry["GeminiMagics"].session
    settings = TurnSettings(model=DEFAULT_MODEL)
    # "plot it" is cut in two hops: thought, text, code | result, figure, text.
    view = _InterruptAtResult(live_updates=False)
    with pytest.raises(KeyboardInterrupt):
        run_turn(session, settings, TurnInput("plot it", {}), view=view)
    _, second = sorted(plot.interactions.list(), key=lambda i: i.created)
    deadline = time.monotonic() + 10
    while not [r for r in plot.log if r.path.endswith("/cancel")]:
        assert time.monotonic() < deadline, "no cancel request reached the service"
        time.sleep(0.05)
    (cancel,) = [r for r in plot.log if r.path.endswith("/cancel")]
    assert cancel.path == f"/v1/interactions/{second.interaction_id}/cancel"
    assert not any(c.exchanges for c in session.store)
