"""What the Interactions tests of the emulator share: replies, a client, readers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from google import genai

from gemini_magic.emulator import Emulator

MODEL = "gemini-3-flash-preview"
CODE = [{"type": "code_execution"}]
PLOT_TEXT = "I will draw the numbers with Matplotlib and print their total for you."
REPLIES = [
    {
        "match": "plot",
        "parts": [
            {"thought": "A line chart of three points, then their sum."},
            {"text": PLOT_TEXT},
            {"code": "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nprint(1 + 2 + 3)"},
            {"text": "The total is {output}."},
        ],
    },
    {"match": "fail", "parts": [{"code": "raise ValueError('no good')"}, {"text": "It failed."}]},
    {"match": "ping", "parts": [{"text": "pong"}]},
]
CSV = b"region,sales\nnorth,10\nsouth,30\n"


def make_client(emulator: Emulator, key: str | None = None, **options: Any) -> genai.Client:
    """A client with the emulator's own key (or ``key``, one it was told to accept)."""
    options = {"base_url": emulator.url, "retry_options": {"attempts": 1}, **options}
    return genai.Client(api_key=key or emulator.key, http_options=options)


def control(emulator: Emulator, action: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{emulator.url}/_emulator/{action}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"x-goog-api-key": emulator.key},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def step_types(steps: list[Any]) -> list[str]:
    return [s.type for s in steps]


def output_texts(steps: list[Any]) -> list[str]:
    return [
        c.text for s in steps if s.type == "model_output" for c in s.content if c.type == "text"
    ]


def raw(emulator: Emulator, method: str, path: str, body: bytes | None) -> Any:
    """Plain HTTP, with the emulator's key, for what the SDK never sends; returns
    (status, JSON)."""
    headers = {"x-goog-api-key": emulator.key}
    request = urllib.request.Request(
        f"{emulator.url}{path}", data=body, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
