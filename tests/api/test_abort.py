"""Ending a thread's send from another thread (``api.abort``), over real HTTP.

A background turn is cancelled from the kernel's main thread while its worker is blocked
reading a stream that stalled (the model thinking).  Closing the SDK's stream does not
wake that read; the abort must, at once, on both APIs, and the worker must see an
interrupt (``Aborted``), not a network failure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from gemini_magic.api.abort import Abort, Aborted
from gemini_magic.api.client import make_client
from gemini_magic.api.errors import service_call

MODEL = "gemini-2.5-flash"
REPLIES = [{"match": "story", "parts": [{"text": "Once "}, {"text": "upon "}, {"text": "a time."}]}]


def _streams(client: Any) -> dict[str, Callable[[], list[Any]]]:
    return {
        "interactions": lambda: list(
            client.interactions.create(model=MODEL, input="Tell a story.", stream=True)
        ),
        "generate_content": lambda: list(
            client.models.generate_content_stream(model=MODEL, contents="Tell a story.")
        ),
    }


def _start(abort: Abort, call: Callable[[], list[Any]]) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def worker() -> None:
        try:
            with abort.armed(), service_call(120):
                outcome["events"] = call()
        except BaseException as error:  # what the worker saw is the test's subject
            outcome["error"] = error

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("api", ["interactions", "generate_content"])
def test_fire_ends_a_stalled_stream_at_once_as_an_interrupt(emulator, api: str):
    emulator.set_replies(REPLIES)
    client = make_client(timeout_s=120, base_url=emulator.url, offline_key=emulator.key)
    emulator.inject("stall", seconds=60, after=2)
    abort = Abort()
    thread, outcome = _start(abort, _streams(client)[api])
    time.sleep(1.0)  # the stream is open and stalled after its first events
    assert thread.is_alive()
    fired = time.monotonic()
    abort.fire()
    thread.join(10)
    assert not thread.is_alive(), "the stalled read was not ended"
    assert time.monotonic() - fired < 10  # the stall lasts 60 s
    assert isinstance(outcome.get("error"), Aborted), outcome


def test_a_fired_abort_sends_nothing_more_and_others_are_untouched(emulator):
    emulator.set_replies(REPLIES)
    client = make_client(timeout_s=120, base_url=emulator.url, offline_key=emulator.key)
    abort = Abort()
    abort.fire()
    thread, outcome = _start(abort, _streams(client)["interactions"])
    thread.join(10)
    assert isinstance(outcome.get("error"), Aborted)
    assert emulator.log == []
    # Another thread's send, and a send with no abort armed, go on as usual.
    other, seen = _start(Abort(), _streams(client)["generate_content"])
    other.join(10)
    assert "error" not in seen and seen["events"]
    assert client.interactions.create(model=MODEL, input="Tell a story.").status == "completed"
