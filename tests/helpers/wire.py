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
