"""Reading what reached the emulator: the request log of the tests' assertions."""

from __future__ import annotations

import base64
from typing import Any


def generate_requests(emulator: Any) -> list[Any]:
    """The prompts that reached the emulator (generateContent and its stream), in order."""
    return [r for r in emulator.log if "generatecontent" in r.path.lower()]


def parts_of(body: dict[str, Any], role: str | None = None) -> list[dict[str, Any]]:
    """Every part of a request's contents, or of the turns of one role."""
    return [p for c in body["contents"] if role is None or c["role"] == role for p in c["parts"]]


def texts(body: dict[str, Any], role: str | None = None) -> list[str]:
    """Every text part of a request (or of one role's turns), in order."""
    return [p["text"] for p in parts_of(body, role) if "text" in p]


def user_prompts(body: dict[str, Any]) -> list[str]:
    """The last text part of each user turn of a request: the prompts, oldest first."""
    prompts = []
    for content in body["contents"]:
        if content["role"] == "user":
            found = [p["text"] for p in content["parts"] if "text" in p]
            prompts.append(found[-1] if found else "")
    return prompts


def inline_blobs(body: dict[str, Any], prefix: str) -> list[bytes]:
    """The decoded inline data whose MIME type starts with ``prefix`` (URL-safe base64)."""
    found = []
    for part in parts_of(body):
        blob = part.get("inlineData") or part.get("inline_data")
        if blob and (blob.get("mimeType") or blob.get("mime_type", "")).startswith(prefix):
            data = blob["data"]
            found.append(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
    return found


def file_uris(body: dict[str, Any]) -> list[str]:
    """The URIs of the uploaded files a request refers to."""
    return [
        (p.get("fileData") or p.get("file_data"))["file_uri"]
        for p in parts_of(body)
        if "fileData" in p or "file_data" in p
    ]


def interaction_requests(emulator: Any) -> list[Any]:
    """The ``interactions.create`` calls that reached the emulator, in order."""
    return [r for r in emulator.log if r.method == "POST" and r.path.endswith("/interactions")]


def input_texts(body: dict[str, Any]) -> list[str]:
    """Every text block of an Interactions request's input (steps or contents)."""
    found: list[str] = []
    items = body["input"] if isinstance(body["input"], list) else [body["input"]]
    for item in items:
        if isinstance(item, str):
            found.append(item)
            continue
        for block in item.get("content") or item.get("summary") or [item]:
            if isinstance(block, dict) and block.get("type") == "text":
                found.append(block["text"])
    return found


def prompt_requests(emulator: Any) -> list[Any]:
    """The prompts that reached the emulator on either API, in order."""
    return [
        r
        for r in emulator.log
        if "generatecontent" in r.path.lower()
        or (r.method == "POST" and r.path.endswith("/interactions"))
    ]


def prompt_texts(request: Any) -> list[str]:
    """Every text a prompt request sends, on either API (on generateContent, of every turn
    it carries; on Interactions, of its input)."""
    return input_texts(request.body) if "interactions" in request.path else texts(request.body)


def conversation_prompts(emulator: Any, index: int = -1) -> list[str]:
    """The prompts of the conversation a prompt (the last by default) continued, oldest
    first, on either API.

    On generateContent the request carries the conversation; on Interactions the service
    keeps it, so the request's own input is read after the user input of the interactions
    it continues (``previous_interaction_id``, as the emulator stored them).
    """
    last = prompt_requests(emulator)[index].body
    if "contents" in last:
        return user_prompts(last)
    stored = {
        interaction.interaction_id: interaction for interaction in emulator.interactions.list()
    }
    prompts = _step_prompts(last["input"])
    previous = last.get("previous_interaction_id")
    while previous is not None:
        interaction = stored[previous]
        prompts = _step_prompts(interaction.input_steps) + prompts
        previous = interaction.previous_interaction_id
    return prompts


def _step_prompts(steps: Any) -> list[str]:
    """The last text block of each user input step: the prompts, oldest first."""
    if isinstance(steps, str):
        return [steps]
    prompts = []
    for step in steps:
        if step.get("type") == "user_input":
            found = [b["text"] for b in step["content"] if b.get("type") == "text"]
            prompts.append(found[-1] if found else "")
    return prompts


def user_blocks(request: Any) -> list[dict[str, Any]]:
    """The content blocks of an Interactions request's new user input."""
    (step,) = [s for s in request.body["input"] if s.get("type") == "user_input"][-1:]
    return step["content"]


def media(request: Any) -> list[tuple[str, bytes]]:
    """(MIME type, bytes) of every image and document a prompt request carries, on either API."""
    if "interactions" in request.path:
        return [
            (block["mime_type"], base64.b64decode(block["data"]))
            for block in user_blocks(request)
            if block["type"] in ("image", "document") and "data" in block
        ]
    found = []
    for part in parts_of(request.body):
        blob = part.get("inlineData") or part.get("inline_data")
        if blob:
            mime = blob.get("mimeType") or blob.get("mime_type")
            data = blob["data"]
            found.append((mime, base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))))
    return found
