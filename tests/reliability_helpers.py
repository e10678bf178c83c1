"""Helpers shared by the reliability tests: what reached the emulator, what the user saw."""

from __future__ import annotations

from typing import Any

#: Marks the line StreamView appends when an answer was cut short.
INCOMPLETE = "Answer incomplete"
INTERRUPTED = "Interrupted"


def generate_requests(emulator: Any) -> list[Any]:
    """The prompts that reached the emulator (generateContent and its stream), in order."""
    return [r for r in emulator.log if ":generateContent" in r.path or "streamGenerate" in r.path]


def user_prompts(body: dict[str, Any]) -> list[str]:
    """The last text part of each user turn of a request: the prompts, oldest first."""
    prompts = []
    for content in body["contents"]:
        if content["role"] != "user":
            continue
        texts = [p["text"] for p in content["parts"] if "text" in p]
        prompts.append(texts[-1] if texts else "")
    return prompts


def model_texts(body: dict[str, Any]) -> list[str]:
    """Every text part of the model turns of a request (what the conversation kept)."""
    return [
        p["text"]
        for c in body["contents"]
        if c["role"] == "model"
        for p in c["parts"]
        if "text" in p
    ]
