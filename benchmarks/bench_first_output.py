"""Point 3: how soon the first streamed text is on screen after its event arrives.

The emulator (its own process) waits 200 ms between events.  Between it and the SDK
sits a byte-for-byte TCP relay in this process that notes, on the same monotonic clock,
when the first bytes of the event carrying the answer's first words arrive from the
emulator (the moment that event reaches our side of the network).  In the shell, the
display publisher is wrapped to note when the first Markdown output holding those words
is published (what a kernel sends to the notebook).  The difference is what the SDK and
the magic add before the user sees the first words.

``--api`` picks the API (set explicitly with ``%config GeminiMagics.api``; ``run.py``
runs both): on generate_content that event is the first ``data:`` chunk; on
Interactions it is the first ``step.delta`` of text, after ``interaction.created``,
``interaction.status_update`` and ``step.start``.

For comparison, the same is measured for a bare SDK cell on the same API: arrival to
the moment its loop receives the chunk (``generate_content_stream``) or the text delta
(``interactions.create(stream=True)``).

    python benchmarks/bench_first_output.py [--api API] [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import threading
import time
from urllib.parse import urlparse

from common import Row, emit, ms, paired, say, spread
from emulator_process import EmulatorProcess

FIRST_WORDS = "Streaming answers"
REPLY = {
    "match": "stream",
    "parts": [
        {
            "text": f"{FIRST_WORDS} arrive piece by piece, and each piece is shown as "
            "soon as it comes."
        }
    ],
}
PROMPT = "Say something about streaming."

SDK_SETUP = """
import time as _time
from google import genai as _genai
_bench_client = _genai.Client()
_bench_first = []
"""

SDK_CELLS = {
    "generate_content": f"""
for _index, _chunk in enumerate(_bench_client.models.generate_content_stream(
    model="gemini-3.8-flash", contents={PROMPT!r}
)):
    if _index == 0:
        _bench_first.append(_time.monotonic())
""",
    "interactions": f"""
_seen = False
with _bench_client.interactions.create(
    model="gemini-3.8-flash", input={PROMPT!r}, tools=[{{"type": "code_execution"}}],
    stream=True,
) as _events:
    for _event in _events:
        if not _seen and _event.event_type == "step.delta" and _event.delta.type == "text":
            _seen = True
            _bench_first.append(_time.monotonic())
""",
}


class Relay:
    """A TCP relay that timestamps, in each response, the first chunk holding ``marker``."""

    def __init__(self, upstream: str, marker: bytes) -> None:
        self._marker = marker
        parsed = urlparse(upstream)
        self._target = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self.event_arrivals: list[float] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closed = True
        self._server.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            state = {"awaiting": False}
            threading.Thread(
                target=self._pump, args=(client, upstream, state, True), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(upstream, client, state, False), daemon=True
            ).start()

    def _pump(self, source: socket.socket, sink: socket.socket, state: dict, request: bool) -> None:
        try:
            while data := source.recv(65536):
                if request:
                    state["awaiting"] = True  # a new request: note its first event
                elif state["awaiting"] and self._marker in data:
                    state["awaiting"] = False
                    with self._lock:
                        self.event_arrivals.append(time.monotonic())
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", choices=tuple(SDK_CELLS), default="generate_content")
    parser.add_argument("--runs", type=int, default=15, help="runs of each cell (paired)")
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from IPython.testing.globalipapp import start_ipython
    from IPython.utils.capture import capture_output

    with EmulatorProcess([REPLY], delay=args.delay) as emulator:
        # generate_content's first data: event carries the first words; on Interactions
        # the first ones carrying text are the step.delta events.
        marker = b"data:" if args.api == "generate_content" else FIRST_WORDS.encode()
        relay = Relay(emulator.url, marker)
        os.environ["GOOGLE_GEMINI_BASE_URL"] = relay.url
        os.environ["GEMINI_API_KEY"] = emulator.key  # it answers only its own key
        os.environ.pop("GOOGLE_API_KEY", None)  # which would win over GEMINI_API_KEY
        shell = start_ipython()
        shell.run_line_magic("load_ext", "gemini_magic")
        shell.run_cell("%config GeminiMagics.history_file = ''")
        shell.run_cell(f"%config GeminiMagics.api = {args.api!r}")
        shell.run_cell(SDK_SETUP)

        def magic() -> float:
            shown: list[float] = []
            with capture_output():
                publisher = shell.display_pub
                original = publisher.publish

                def timed_publish(data, *a, **k):
                    if not shown and FIRST_WORDS in str(data.get("text/markdown", "")):
                        shown.append(time.monotonic())
                    return original(data, *a, **k)

                publisher.publish = timed_publish
                before = len(relay.event_arrivals)
                result = shell.run_cell(f"%%gemini --new\n{PROMPT}")
            if not result.success or not shown:
                raise RuntimeError(
                    f"the magic cell failed or showed no text: {result.error_in_exec!r}"
                )
            (arrival,) = relay.event_arrivals[before:]
            return shown[0] - arrival

        def sdk() -> float:
            before = len(relay.event_arrivals)
            with capture_output():
                result = shell.run_cell(SDK_CELLS[args.api])
            if not result.success:
                raise RuntimeError(f"the SDK cell failed: {result.error_in_exec!r}")
            (arrival,) = relay.event_arrivals[before:]
            return shell.user_ns["_bench_first"][-1] - arrival

        magic(), sdk()  # warm-up: imports, connection
        shown, yielded = paired(magic, sdk, args.runs)
        relay.close()

    worst = max(shown)
    say(
        f"API: {args.api}; emulator delay between events: {args.delay * 1000:.0f} ms; "
        f"{args.runs} paired runs",
        f"event arrival -> first Markdown published by %%gemini: {spread(shown)}",
        f"event arrival -> first text yielded to a bare SDK loop: {spread(yielded)}",
    )
    emit(
        [
            Row(
                "3",
                f"first streamed text on screen after its event arrived, on {args.api} "
                "(median; max)",
                f"{ms(statistics.median(shown))}; max {ms(worst)} "
                f"(bare SDK yields it after {ms(statistics.median(yielded))})",
                "≤ 10 ms",
                statistics.median(shown) <= 0.010,
                f"{args.delay * 1000:.0f} ms between events; arrival = first bytes of the event "
                "carrying the first words at a TCP relay in the same process; shown = display "
                "publish of the Markdown",
            )
        ],
        args.json,
    )


if __name__ == "__main__":
    main()
