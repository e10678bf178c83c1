"""The background job registry's own rules, on plain callables.

Threads, order per conversation, wait, cancel; what a background prompt does in a real
kernel is in tests/command/test_background.py.
"""

from __future__ import annotations

import threading

import pytest

from gemini_magic.errors import GeminiAPIError
from gemini_magic.state.jobs import CANCELLED, DONE, FAILED, Cancelled, Jobs


def test_a_turn_waits_for_the_turn_in_flight_of_its_conversation_only():
    jobs = Jobs()
    release = threading.Event()
    order: list[str] = []

    def slow(job):
        release.wait(10)
        order.append("first")

    first = jobs.start("default", "first", slow, number=1)
    second = jobs.start("default", "second", lambda job: order.append("second"), number=2)
    other = jobs.start("side", "other", lambda job: order.append("other"), number=3)
    assert second.after is first and other.after is None
    assert other.wait(5) and not second.finished
    release.set()
    jobs.wait([first, second])
    assert order == ["other", "first", "second"]
    assert [j.state for j in jobs.select()] == [DONE, DONE, DONE]


def test_wait_raises_the_first_failure_once():
    jobs = Jobs()
    error = GeminiAPIError("400 Bad request.")

    def fail(job):
        raise error

    jobs.start("default", "fails", fail, number=4)
    with pytest.raises(GeminiAPIError) as raised:
        jobs.wait(jobs.select())
    assert raised.value is error
    jobs.wait(jobs.select())  # raised once: a second wait passes
    (job,) = jobs.select()
    assert job.state == FAILED and job.reported


def test_cancel_stops_a_running_turn_at_its_next_check_and_a_waiting_one_before_it_runs():
    jobs = Jobs()
    ran: list[str] = []

    def streaming(job):
        while True:  # a part arrives every few milliseconds
            job.check()
            threading.Event().wait(0.005)

    running = jobs.start("default", "long", streaming, number=1)
    waiting = jobs.start("default", "next", lambda job: ran.append("next"), number=2)
    assert jobs.cancel_all() == [running, waiting]
    jobs.wait([running, waiting])
    assert running.state == waiting.state == CANCELLED
    assert running.ran and not waiting.ran and ran == []
    assert issubclass(Cancelled, KeyboardInterrupt)  # handled as an interrupt is
    assert not running.cancel()  # finished: nothing to cancel
