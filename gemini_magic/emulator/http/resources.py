"""The resources beside generation: the Files API, ``cachedContents`` and ``models``.

Each ``serve_*`` function answers one family of paths (matched in :mod:`routes`) and
writes the service's JSON: ``File``, ``CachedContent``, ``Model`` and their lists.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timezone
from typing import Any

from gemini_magic.emulator.answers.faults import Fault
from gemini_magic.emulator.http.exchange import Exchange
from gemini_magic.emulator.store.caches import CACHED_ONLY, StoredCache, expiry, minimum_tokens
from gemini_magic.emulator.wire import codec as wire
from gemini_magic.emulator.wire.codec import RequestError
from gemini_magic.emulator.wire.tokens import count_tokens

#: The models ``GET models`` lists (current ones first); generation answers for any name.
LISTED_MODELS = (
    "gemini-3.8-flash",
    "gemini-4-argon",
    "gemini-4-hydrogen",
    "gemini-4-neon",
    "gemini-4-carbon",
    "gemini-3.5-flash",
    "gemini-3.1-pro-preview",
    "gemini-2.5-flash",
    "gemini-2.5-pro",
    "gemini-2.5-flash-lite",
)

_TEXT = "text/plain; charset=utf-8"


def _not_allowed(handler: Exchange) -> RequestError:
    return RequestError(405, f"{handler.method} is not allowed on {handler.url_path}.")


# -- cachedContents -----------------------------------------------------------------


def serve_caches(handler: Exchange, route: re.Match[str], fault: Fault | None) -> None:
    """``cachedContents`` (create, list) and ``cachedContents/{id}`` (get, patch, delete)."""
    caches = handler.emulator.caches
    one, method = route.group(2), handler.method
    if one and method == "GET":
        handler.send_json(200, caches.get(one).resource())
    elif one and method == "DELETE":
        caches.delete(one)
        handler.send_json(200, {})
    elif one and method == "PATCH":
        handler.send_json(200, caches.update(one, wire.request_body(handler.raw)).resource())
    elif not one and method == "POST":
        cache = _create_cache(handler, wire.request_body(handler.raw))
        handler.send_json(200, cache.resource())
    elif not one and method == "GET":
        listed = [c.resource() for c in caches.list()]
        handler.send_json(200, {"cachedContents": listed} if listed else {})
    else:
        raise _not_allowed(handler)


def _create_cache(handler: Exchange, body: dict[str, Any]) -> StoredCache:
    """Validate and count a cache as generateContent would, then store it."""
    emulator = handler.emulator
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError(400, "* CachedContent.model: model is required.")
    model = model if model.startswith("models/") else f"models/{model}"
    held = {k: body[k] for k in ("contents", *CACHED_ONLY) if body.get(k) is not None}
    if not held.get("contents") and not held.get("systemInstruction"):
        raise RequestError(400, "A cached content needs contents or a system instruction.")
    files: dict[str, wire.Attachment] = {}

    def keep(uri: str) -> wire.Attachment:
        attachment = emulator.files.attachment(wire.file_id_from_uri(uri, "fileData"))
        files[uri] = dataclasses.replace(attachment)
        return attachment

    probe = {
        "contents": held.get("contents") or [{"role": "user", "parts": [{"text": ""}]}],
        "systemInstruction": held.get("systemInstruction"),
    }
    tokens = wire.parse_generate_body(probe, model, keep, count_tokens).prompt_tokens
    least = minimum_tokens(model)
    if tokens < least:
        raise RequestError(
            400,
            f"Cached content is too small. total_token_count={tokens}, "
            f"min_total_token_count={least}",
        )
    now = datetime.now(timezone.utc)
    cache = StoredCache(
        cache_id=emulator.caches.new_id(),
        model=model,
        display_name=body.get("displayName"),
        held=held,
        tokens=tokens,
        files=files,
        created=now,
        updated=now,
        expires=expiry(body, now),
    )
    return emulator.caches.add(cache)


# -- Files API ----------------------------------------------------------------------


def serve_upload(handler: Exchange, route: re.Match[str], fault: Fault | None) -> None:
    """The resumable upload: ``start`` hands out a URL, posting to it stores the file."""
    files, query, raw = handler.emulator.files, handler.query, handler.raw
    command = handler.headers.get("X-Goog-Upload-Command", "").lower()
    if "upload_id" not in query:
        if command != "start":
            raise RequestError(
                400, "Only resumable uploads are emulated: send X-Goog-Upload-Command: start."
            )
        body = wire.camelize(wire.parse_json(raw)) if raw.strip() else {}
        meta = body.get("file") if isinstance(body, dict) else None
        if not isinstance(meta, dict):
            meta = {}
        content_type = handler.headers.get("X-Goog-Upload-Header-Content-Type")
        session = files.start_upload(meta, content_type)
        url = f"{handler.base_url()}/upload/{route.group(1)}/files?upload_id={session}"
        headers = {"X-Goog-Upload-Status": "active", "X-Goog-Upload-URL": url}
        handler.send(200, b"", _TEXT, headers)
        return
    final = {"X-Goog-Upload-Status": "final"}
    try:
        if "upload" not in command:
            raise RequestError(400, f"Unknown X-Goog-Upload-Command {command!r}.")
        try:
            offset = int(handler.headers.get("X-Goog-Upload-Offset", "0"))
        except ValueError:
            raise RequestError(400, "X-Goog-Upload-Offset must be an integer.") from None
        stored = files.append(query["upload_id"], offset, raw, "finalize" in command)
    except RequestError as exc:
        exc.headers.update(final)  # without it the SDK sleeps and retries 3 times
        raise
    if stored is None:
        handler.send(200, b"", _TEXT, {"X-Goog-Upload-Status": "active"})
    else:
        handler.send_json(200, {"file": stored.resource(handler.base_url())}, final)


def serve_files(handler: Exchange, route: re.Match[str], fault: Fault | None) -> None:
    """``files/{id}`` (get, delete) and ``files`` (list)."""
    files, one, method = handler.emulator.files, route.group(2), handler.method
    if one and method == "GET":
        handler.send_json(200, files.get(one).resource(handler.base_url()))
    elif one and method == "DELETE":
        files.delete(one)
        handler.send_json(200, {})
    elif not one and method == "GET":
        listed = [f.resource(handler.base_url()) for f in files.list()]
        handler.send_json(200, {"files": listed} if listed else {})
    else:
        raise _not_allowed(handler)


# -- models -------------------------------------------------------------------------


def serve_models(handler: Exchange, route: re.Match[str], fault: Fault | None) -> None:
    """``GET models`` and ``GET models/{name}``, as ``%gemini models`` asks them."""
    one = route.group(2)
    if one is None:
        models = [_model(handler, name) for name in LISTED_MODELS]
        handler.send_json(200, {"models": models})
    else:
        handler.send_json(200, _model(handler, one))


def _model(handler: Exchange, name: str) -> dict[str, Any]:
    return {
        "name": f"models/{name}",
        "version": handler.emulator.offline_mark,
        "displayName": f"{name} (offline emulator)",
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
        "supportedGenerationMethods": [
            "generateContent",
            "streamGenerateContent",
            "countTokens",
            "createCachedContent",
        ],
    }
