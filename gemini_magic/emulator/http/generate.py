"""``models/{model}:generateContent`` and ``:streamGenerateContent``: the classic API.

A request is read (with a named context cache's contents put first), the model's parts
are produced in the request's sandbox, and the answer is written whole or as server-sent
events: text split into pieces, code, results and figures whole, ``finishReason`` and
``usageMetadata`` on the last event.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterator
from typing import Any

from gemini_magic.emulator.answers.faults import Fault
from gemini_magic.emulator.answers.model import reply_for
from gemini_magic.emulator.http.exchange import Exchange
from gemini_magic.emulator.store.caches import CACHED_ONLY, NOT_ALLOWED_WITH_CACHE, StoredCache
from gemini_magic.emulator.wire import codec as wire
from gemini_magic.emulator.wire.codec import RequestError
from gemini_magic.emulator.wire.tokens import count_tokens, usage_metadata

THINKING_LEVELS = ("THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH", "XHIGH")

MALFORMED = b'data: {"candidates": [{"content": \r\n\r\n'
"""The broken event of the ``malformed_event`` fault (not JSON)."""


def serve(handler: Exchange, route: re.Match[str], fault: Fault | None) -> None:
    """Answer one generateContent or streamGenerateContent request."""
    emulator = handler.emulator
    model, stream = route.group(2), route.group(3).startswith("stream")
    body = wire.request_body(handler.raw)
    if not isinstance(body.get("store", False), bool):
        raise wire.RequestError(400, "Invalid value at 'store': expected true or false.")
    cache = _cache_for(handler, model, body) if body.get("cachedContent") else None
    if cache is not None:
        cached_contents = cache.held.get("contents", [])
        body = {**body, **cache.held, "contents": cached_contents + body["contents"]}

    def resolve(uri: str) -> wire.Attachment:
        kept = cache.files.get(uri) if cache is not None else None
        if kept is not None:
            return dataclasses.replace(kept)
        return emulator.files.attachment(wire.file_id_from_uri(uri, "fileData"))

    request = wire.parse_generate_body(body, model, resolve, count_tokens)
    request.cached_tokens = cache.tokens if cache is not None else 0
    request.search = any(
        isinstance(tool, dict) and ("googleSearch" in tool or "googleSearchRetrieval" in tool)
        for tool in wire.as_list(body.get("tools") or [], "tools")
    )
    answered = fault.params["model"] if fault and fault.kind == "answer_as" else model
    envelope = {
        "modelVersion": f"{answered}-{emulator.offline_mark}",
        "responseId": hashlib.sha256(handler.raw).hexdigest()[:22],
    }
    thinking = (body.get("generationConfig") or {}).get("thinkingConfig") or {}
    _check_thinking_level(thinking.get("thinkingLevel"))
    thoughts = bool(thinking.get("includeThoughts"))
    with reply_for(request, emulator.replies_rules, emulator.exec_timeout, fault) as made:
        grounding = Grounding()
        parts = _shown(made, thoughts, grounding)
        if stream:
            _stream(handler, request, parts, envelope, fault, grounding)
            return
        whole = list(parts)
        answer = {
            "candidates": [_candidate(whole, final=True, fault=fault, grounding=grounding)],
            "usageMetadata": usage_metadata(request.prompt_tokens, whole, request.cached_tokens),
            **envelope,
        }
        if fault and fault.kind == "drop":
            handler.send_half_and_drop(answer)
        handler.send_json(200, answer)


def _stream(
    handler: Exchange,
    request: wire.GenerateRequest,
    parts: Iterator[dict[str, Any]],
    envelope: dict[str, str],
    fault: Fault | None,
    grounding: Grounding,
) -> None:
    """Send one event per text piece or whole part; the last carries finishReason
    (and the grounding metadata, once every search is known)."""
    handler.start_stream()
    whole: list[dict[str, Any]] = []
    pending: dict[str, Any] | None = None
    sent = 0
    for part in parts:
        whole.append(part)
        pieces = [{"text": t} for t in wire.split_text(part["text"])] if "text" in part else [part]
        for piece in pieces:
            if pending is not None:
                handler.write_event({"candidates": [_candidate([pending])], **envelope})
                sent += 1
                handler.after_event(sent, fault, MALFORMED)
            pending = piece
    final = {
        "candidates": [
            _candidate([pending] if pending else [], final=True, fault=fault, grounding=grounding)
        ],
        "usageMetadata": usage_metadata(request.prompt_tokens, whole, request.cached_tokens),
        **envelope,
    }
    handler.write_event(final)
    handler.after_event(sent + 1, fault, MALFORMED)
    handler.end_stream()


class Grounding:
    """The searches of one reply, as generateContent reports them: ``groundingMetadata``."""

    def __init__(self) -> None:
        self.queries: list[str] = []
        self.sources: list[dict[str, str]] = []
        self.suggestions = ""

    def metadata(self) -> dict[str, Any] | None:
        """``webSearchQueries``, ``groundingChunks`` (web uri, title), ``searchEntryPoint``."""
        if not self.queries:
            return None
        return {
            "webSearchQueries": self.queries,
            "groundingChunks": [{"web": dict(source)} for source in self.sources],
            "searchEntryPoint": {"renderedContent": self.suggestions},
        }


def _check_thinking_level(level: Any) -> None:
    """The SDK sends any level (it only warns), so the service's 400 is emulated."""
    if level is not None and str(level).upper() not in THINKING_LEVELS:
        raise RequestError(
            400,
            f"Invalid value at 'generation_config.thinking_config.thinking_level' ({level!r}): "
            f"allowed values are {', '.join(THINKING_LEVELS[1:])}.",
        )


def _shown(
    parts: Iterator[dict[str, Any]], thoughts: bool, grounding: Grounding
) -> Iterator[dict[str, Any]]:
    """The parts generateContent shows: thoughts (signed) only when asked for; searches
    go into ``grounding``; shell steps (an Interactions API step) not at all."""
    for part in parts:
        if part.get("shell"):
            continue  # generateContent's sandbox runs Python only
        if "searchCall" in part:
            grounding.queries.extend(part["searchCall"]["queries"])
        elif "searchResult" in part:
            grounding.sources.extend(part["searchResult"]["sources"])
            grounding.suggestions += part["searchResult"]["suggestions"]
        elif part.get("thought"):
            if thoughts:
                yield {**part, "thoughtSignature": wire.signature("thought", part["text"])}
        else:
            yield {k: v for k, v in part.items() if k != "citations"}


def _cache_for(handler: Exchange, model: str, body: dict[str, Any]) -> StoredCache:
    """The cache a generateContent request names, checked as the service checks it."""
    if any(body.get(key) for key in CACHED_ONLY):
        raise RequestError(400, NOT_ALLOWED_WITH_CACHE)
    if not body.get("contents"):
        raise RequestError(400, "* GenerateContentRequest.contents: contents is not specified")
    name = str(body["cachedContent"])
    cache = handler.emulator.caches.get(name.rsplit("/", 1)[-1])
    wanted = model if model.startswith("models/") else f"models/{model}"
    if cache.model != wanted:
        raise RequestError(
            400,
            f"Model used by GenerateContent request ({wanted}) and CachedContent "
            f"({cache.model}) has to be the same.",
        )
    return cache


def _candidate(
    parts: list[dict[str, Any]],
    final: bool = False,
    fault: Fault | None = None,
    grounding: Grounding | None = None,
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if final:
        finish = fault is not None and fault.kind == "finish"
        candidate["finishReason"] = fault.params["reason"] if finish else "STOP"
        metadata = grounding.metadata() if grounding is not None else None
        if metadata:
            candidate["groundingMetadata"] = metadata
    return candidate
