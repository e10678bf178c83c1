"""Soak: 200 prompts in one real kernel against the emulator; nothing may pile up.

Prints the kernel's resident memory (RSS), threads, open file descriptors and sockets
after a warm-up and at the end.  The conversation grows with every turn (its JSON is
printed too), so memory may grow by a small multiple of the history's own size and
no more; threads, descriptors and sockets must not grow at all beyond a small slack.

Run alone with ``pytest -m slow tests/test_soak.py -s`` to see the figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest

from tests.helpers.reliability import Kernel
from tests.helpers.wire import interaction_requests

pytestmark = pytest.mark.slow

PROMPTS = 200
WARM_UP = 20
#: Every n-th prompt runs code in the emulator's sandbox and brings back a PNG.
WITH_FIGURE_EVERY = 25
#: Slack for the interpreter's own allocator and caches, on top of the history's size.
RSS_SLACK = 15_000_000
HISTORY_FACTOR = 10

REPLIES = [
    {
        "match": "plot",
        "parts": [
            {"text": "Here is the plot."},
            {
                "code": "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nprint('plotted')",
            },
            {"text": "It {output}."},
        ],
    },
    {
        "match": "question",
        "parts": [{"text": "A short answer, streamed in a few pieces over the network."}],
    },
]


def figures(process: psutil.Process) -> dict[str, int]:
    return {
        "rss": process.memory_info().rss,
        "threads": process.num_threads(),
        "fds": process.num_fds(),
        "sockets": len(process.net_connections(kind="inet")),
    }


def test_200_prompts_in_one_kernel_leave_memory_threads_and_sockets_flat(
    emulator_with_replies, tmp_path: Path
):
    emulator = emulator_with_replies(REPLIES)
    kernel = Kernel(tmp_path / "soak.ipynb")
    try:
        reply, text = kernel.run(
            "import pandas as pd\n%load_ext gemini_magic\n"
            "sales = pd.DataFrame({'region': list('NSEW') * 25, 'revenue': range(100)})"
        )
        assert reply["status"] == "ok", text
        process = psutil.Process(kernel.pid)
        start: dict[str, int] = {}
        for number in range(1, PROMPTS + 1):
            if number % WITH_FIGURE_EVERY == 0:
                prompt = f"Prompt {number}: plot {{sales}} please."
            else:
                prompt = f"Prompt {number}: a question about {{sales}}."
            reply, text = kernel.run(f"%%gemini\n{prompt}")
            assert reply["status"] == "ok", f"prompt {number}: {text}"
            if number == WARM_UP:
                start = figures(process)
        end = figures(process)
    finally:
        kernel.stop()

    history = tmp_path / "soak.gemini-history.json"
    history_bytes = history.stat().st_size
    last = interaction_requests(emulator)[-1]
    print(f"\nsoak: {PROMPTS} prompts; history file {history_bytes:,} B; ", end="")
    print(f"last request {last.bytes_in:,} B")
    for name in ("rss", "threads", "fds", "sockets"):
        print(f"  {name:8} after {WARM_UP}: {start[name]:>12,}   after {PROMPTS}: {end[name]:>12,}")
    # Every turn is kept; the service keeps the conversation, so the last request is small.
    assert last.body["previous_interaction_id"] and last.bytes_in < 20_000
    saved = json.loads(history.read_text())["conversations"]["default"]
    assert [e["prompt"].split(":")[0] for e in saved] == [
        f"Prompt {n}" for n in range(1, PROMPTS + 1)
    ]
    assert end["rss"] - start["rss"] <= RSS_SLACK + HISTORY_FACTOR * history_bytes
    assert end["threads"] <= start["threads"] + 2
    assert end["fds"] <= start["fds"] + 4
    assert end["sockets"] <= start["sockets"] + 2
