"""HTTP: routing the SDK's requests and the control API, writing JSON and SSE.

Stdlib only (``http.server``), HTTP/1.1 keep-alive, chunked server-sent events that
the SDK reads as they come.  Whatever a request holds, the answer is an HTTP response
(an error body at worst); no request can take the server down.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import re
import socket
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from gemini_magic.emulator import wire
from gemini_magic.emulator.caches import (
    CACHED_ONLY,
    NOT_ALLOWED_WITH_CACHE,
    StoredCache,
    expiry,
    minimum_tokens,
)
from gemini_magic.emulator.faults import CACHES, FILES, GENERATE, STREAM, Fault
from gemini_magic.emulator.model import huge_text, reply_parts
from gemini_magic.emulator.requestlog import LoggedRequest
from gemini_magic.emulator.sandbox import Sandbox
from gemini_magic.emulator.tokens import count_tokens, usage_metadata
from gemini_magic.emulator.wire import RequestError
from gemini_magic.errors import GeminiMagicError

if TYPE_CHECKING:
    from gemini_magic.emulator.service import Emulator

logger = logging.getLogger(__name__)

_VERSION = r"(v1|v1beta|v1alpha)"
_GENERATE = re.compile(rf"^/{_VERSION}/models/([^/:]+):(generateContent|streamGenerateContent)$")
_UPLOAD = re.compile(rf"^/upload/{_VERSION}/files$")
_FILE = re.compile(rf"^/{_VERSION}/files/([^/:]+)$")
_FILE_LIST = re.compile(rf"^/{_VERSION}/files$")
_CACHE = re.compile(rf"^/{_VERSION}/cachedContents/([^/:]+)$")
_CACHE_LIST = re.compile(rf"^/{_VERSION}/cachedContents$")
_MODEL = re.compile(rf"^/{_VERSION}/models/([^/:]+)$")
_MODEL_LIST = re.compile(rf"^/{_VERSION}/models$")

#: The models ``GET models`` lists; generateContent answers for any model name.
LISTED_MODELS = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite")
CONTROL_PREFIX = "/_emulator/"
_NO_KEY = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API key or other form of API consumer identity to call this API."
)


class _Dropped(Exception):
    """The connection was cut on purpose (the ``drop`` fault)."""


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threading server that knows its emulator and can close idle keep-alives."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self.open_connections: set[socket.socket] = set()
        self.connections_accepted = 0
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up is normal; anything else is logged, not printed."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            logger.exception("emulator connection from %s failed", client_address)

    def close_connections(self) -> None:
        """Shut every client connection so no handler thread waits on a keep-alive."""
        for connection in list(self.open_connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    """One connection; each request is routed by :meth:`_handle`."""

    protocol_version = "HTTP/1.1"
    # Each server-sent event goes out when written, as from the service; with Nagle's
    # algorithm a small event could wait ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server_version = "gemini-emulator"
    sys_version = ""
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.open_connections.add(self.connection)
        self.server.connections_accepted += 1

    def finish(self) -> None:
        self.server.open_connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    # -- plumbing ---------------------------------------------------------------------

    @property
    def emulator(self) -> Emulator:
        return self.server.emulator

    def _handle(self, method: str) -> None:
        self._status = 0
        self._bytes_out = 0
        self._streaming = False
        self._recorded = False
        self._generation = self.emulator.generation
        url = urlsplit(self.path)
        self._method, self._path, self._query, self._raw = method, url.path, {}, b""
        self._query = dict(parse_qsl(url.query))
        control = url.path.startswith(CONTROL_PREFIX)
        self._recorded = control  # control requests are not logged
        try:
            self._raw = self._read_body()
            if control:
                self._control(method, url.path, self._raw)
            else:
                self._api(method, url.path, self._query, self._raw)
        except RequestError as exc:
            self._send_error(exc)
        except _Dropped:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:
            logger.exception("emulator failed on %s %s", method, url.path)
            self._internal_error(exc)
        finally:
            self._record()

    def _record(self) -> None:
        """Log the request once, just before its last byte goes out.

        Recording before the end of the answer means a client that got its answer
        always finds its request in the log.
        """
        if self._recorded:
            return
        self._recorded = True
        headers = {k.lower(): v for k, v in self.headers.items()}
        if "x-goog-api-key" in headers:
            headers["x-goog-api-key"] = "***"
        query = {**self._query, "key": "***"} if "key" in self._query else self._query
        try:
            body = json.loads(self._raw) if self._raw else None
        except ValueError:
            body = None
        self.emulator.record(
            LoggedRequest(
                self._method,
                self._path,
                query,
                headers,
                body,
                self._raw,
                len(self._raw),
                self._status,
                self._bytes_out,
            ),
            self._generation,
        )

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise RequestError(400, "Bad Content-Length header.") from None
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self._status = status
        self._bytes_out += len(data)
        self._record()
        self.wfile.write(data)

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self._send(status, data, "application/json; charset=UTF-8", headers or {})

    def _send_error(self, exc: RequestError) -> None:
        if self._streaming:
            self._write_event(exc.body())
            self._end_stream()
        else:
            self._send_json(exc.code, exc.body(), exc.headers)

    def _internal_error(self, exc: Exception) -> None:
        """An emulator bug still gets a 500 body (or an error event mid-stream)."""
        error = RequestError(500, f"Offline emulator internal error: {type(exc).__name__}: {exc}")
        try:
            if self._status == 0 or self._streaming:
                self._send_error(error)
            else:
                self.close_connection = True
        except OSError:
            self.close_connection = True

    # -- streams ----------------------------------------------------------------------

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self._status = 200
        self._streaming = True

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))
        self._bytes_out += len(data)

    def _write_event(self, body: Any) -> None:
        self._write_chunk(b"data: " + json.dumps(body).encode("utf-8") + b"\r\n\r\n")

    def _end_stream(self) -> None:
        self._record()
        self.wfile.write(b"0\r\n\r\n")
        self._streaming = False

    def _drop(self) -> None:
        self._record()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        raise _Dropped

    # -- the API ----------------------------------------------------------------------

    def _api(self, method: str, path: str, query: dict[str, str], raw: bytes) -> None:
        upload = _UPLOAD.match(path)
        upload_data = upload is not None and "upload_id" in query
        if not upload_data and not (self.headers.get("x-goog-api-key") or query.get("key")):
            raise RequestError(403, _NO_KEY)
        route = _GENERATE.match(path)
        cache = _CACHE.match(path) or _CACHE_LIST.match(path)
        kind = (STREAM if route.group(3).startswith("stream") else GENERATE) if route else FILES
        kind = CACHES if cache else kind
        if _MODEL.match(path) or _MODEL_LIST.match(path):
            self._models(method, path)
            return
        if not (route or upload or cache or _FILE.match(path) or _FILE_LIST.match(path)):
            raise RequestError(404, f"Method not found: {method} {path}.")
        if (route and method != "POST") or (upload and method != "POST"):
            raise RequestError(405, f"{method} is not allowed on {path}; use POST.")
        fault = None if upload_data else self.emulator.faults.take(kind, path)
        if fault and fault.kind == "stall" and fault.params["after"] is None:
            self.emulator.wait(float(fault.params["seconds"]))
        if fault and fault.kind == "status":
            raise _status_error(fault)
        if route:
            self._generate(route.group(2), kind == STREAM, raw, fault)
        elif upload:
            self._upload(upload.group(1), query, raw)
        elif cache:
            self._caches(method, path, raw)
        else:
            self._files(method, path)

    def _generate(self, model: str, stream: bool, raw: bytes, fault: Fault | None) -> None:
        emulator = self.emulator
        body = wire.request_body(raw)
        cache = self._cache_for(model, body) if body.get("cachedContent") else None
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
        envelope = {
            "modelVersion": f"{model}-{emulator.offline_mark}",
            "responseId": hashlib.sha256(raw).hexdigest()[:22],
        }
        with Sandbox(request.attachments, emulator.exec_timeout) as sandbox:
            if fault and fault.kind == "huge":
                parts: Iterator[dict[str, Any]] = iter([{"text": huge_text(fault.params["size"])}])
            else:
                parts = _closing(reply_parts(request, emulator.replies_rules, sandbox), sandbox)
            if stream:
                self._stream(request, parts, envelope, fault)
                return
            whole = list(parts)
            body = {
                "candidates": [_candidate(whole, final=True, fault=fault)],
                "usageMetadata": usage_metadata(
                    request.prompt_tokens, whole, request.cached_tokens
                ),
                **envelope,
            }
            if fault and fault.kind == "drop":
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self._status = 200
                self.wfile.write(data[: len(data) // 2])
                self._bytes_out += len(data) // 2
                self._drop()
            self._send_json(200, body)

    def _stream(
        self,
        request: wire.GenerateRequest,
        parts: Iterator[dict[str, Any]],
        envelope: dict[str, str],
        fault: Fault | None,
    ) -> None:
        """Send one event per text piece or whole part; the last carries finishReason."""
        self._start_stream()
        whole: list[dict[str, Any]] = []
        pending: dict[str, Any] | None = None
        sent = 0
        for part in parts:
            whole.append(part)
            pieces = (
                [{"text": t} for t in wire.split_text(part["text"])] if "text" in part else [part]
            )
            for piece in pieces:
                if pending is not None:
                    self._write_event({"candidates": [_candidate([pending])], **envelope})
                    sent += 1
                    self._after_event(sent, fault)
                pending = piece
        final = {
            "candidates": [_candidate([pending] if pending else [], final=True, fault=fault)],
            "usageMetadata": usage_metadata(request.prompt_tokens, whole, request.cached_tokens),
            **envelope,
        }
        self._write_event(final)
        self._after_event(sent + 1, fault)
        self._end_stream()

    def _after_event(self, sent: int, fault: Fault | None) -> None:
        """Apply the delay and any mid-stream fault due after ``sent`` events."""
        if fault and fault.params.get("after") == sent:
            if fault.kind == "stream_error":
                code = int(fault.params["code"])
                raise RequestError(code, fault.params["message"] or wire.DEFAULT_MESSAGES.get(code))
            if fault.kind == "malformed_event":
                self._write_chunk(b'data: {"candidates": [{"content": \r\n\r\n')
                self._end_stream()
                raise _Dropped
            if fault.kind == "drop":
                self._drop()
            if fault.kind == "stall":
                self.emulator.wait(float(fault.params["seconds"]))
        if self.emulator.delay > 0:
            self.emulator.wait(self.emulator.delay)

    def _cache_for(self, model: str, body: dict[str, Any]) -> StoredCache:
        """The cache a generateContent request names, checked as the service checks it."""
        if any(body.get(key) for key in CACHED_ONLY):
            raise RequestError(400, NOT_ALLOWED_WITH_CACHE)
        if not body.get("contents"):
            raise RequestError(400, "* GenerateContentRequest.contents: contents is not specified")
        name = str(body["cachedContent"])
        cache = self.emulator.caches.get(name.rsplit("/", 1)[-1])
        wanted = model if model.startswith("models/") else f"models/{model}"
        if cache.model != wanted:
            raise RequestError(
                400,
                f"Model used by GenerateContent request ({wanted}) and CachedContent "
                f"({cache.model}) has to be the same.",
            )
        return cache

    # -- cachedContents ---------------------------------------------------------------

    def _caches(self, method: str, path: str, raw: bytes) -> None:
        caches = self.emulator.caches
        one = _CACHE.match(path)
        if one and method == "GET":
            self._send_json(200, caches.get(one.group(2)).resource())
        elif one and method == "DELETE":
            caches.delete(one.group(2))
            self._send_json(200, {})
        elif one and method == "PATCH":
            self._send_json(200, caches.update(one.group(2), wire.request_body(raw)).resource())
        elif not one and method == "POST":
            self._send_json(200, self._create_cache(wire.request_body(raw)).resource())
        elif not one and method == "GET":
            listed = [c.resource() for c in caches.list()]
            self._send_json(200, {"cachedContents": listed} if listed else {})
        else:
            raise RequestError(405, f"{method} is not allowed on {path}.")

    def _create_cache(self, body: dict[str, Any]) -> StoredCache:
        """Validate and count a cache as generateContent would, then store it."""
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise RequestError(400, "* CachedContent.model: model is required.")
        model = model if model.startswith("models/") else f"models/{model}"
        held = {k: body[k] for k in ("contents", *CACHED_ONLY) if body.get(k) is not None}
        if not held.get("contents") and not held.get("systemInstruction"):
            raise RequestError(400, "A cached content needs contents or a system instruction.")
        files: dict[str, wire.Attachment] = {}

        def keep(uri: str) -> wire.Attachment:
            attachment = self.emulator.files.attachment(wire.file_id_from_uri(uri, "fileData"))
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
            cache_id=self.emulator.caches.new_id(),
            model=model,
            display_name=body.get("displayName"),
            held=held,
            tokens=tokens,
            files=files,
            created=now,
            updated=now,
            expires=expiry(body, now),
        )
        return self.emulator.caches.add(cache)

    # -- Files API --------------------------------------------------------------------

    def _base_url(self) -> str:
        return f"http://{self.headers.get('Host') or self.emulator.url.split('//', 1)[1]}"

    def _upload(self, version: str, query: dict[str, str], raw: bytes) -> None:
        files = self.emulator.files
        command = self.headers.get("X-Goog-Upload-Command", "").lower()
        if "upload_id" not in query:
            if command != "start":
                raise RequestError(
                    400, "Only resumable uploads are emulated: send X-Goog-Upload-Command: start."
                )
            body = wire.camelize(wire.parse_json(raw)) if raw.strip() else {}
            meta = body.get("file") if isinstance(body, dict) else None
            if not isinstance(meta, dict):
                meta = {}
            session = files.start_upload(
                meta, self.headers.get("X-Goog-Upload-Header-Content-Type")
            )
            url = f"{self._base_url()}/upload/{version}/files?upload_id={session}"
            headers = {"X-Goog-Upload-Status": "active", "X-Goog-Upload-URL": url}
            self._send(200, b"", "text/plain; charset=utf-8", headers)
            return
        final = {"X-Goog-Upload-Status": "final"}
        try:
            if "upload" not in command:
                raise RequestError(400, f"Unknown X-Goog-Upload-Command {command!r}.")
            try:
                offset = int(self.headers.get("X-Goog-Upload-Offset", "0"))
            except ValueError:
                raise RequestError(400, "X-Goog-Upload-Offset must be an integer.") from None
            stored = files.append(query["upload_id"], offset, raw, "finalize" in command)
        except RequestError as exc:
            exc.headers.update(final)  # without it the SDK sleeps and retries 3 times
            raise
        if stored is None:
            self._send(200, b"", "text/plain; charset=utf-8", {"X-Goog-Upload-Status": "active"})
        else:
            self._send_json(200, {"file": stored.resource(self._base_url())}, final)

    def _models(self, method: str, path: str) -> None:
        """``GET models`` and ``GET models/{name}``, as ``%gemini models`` asks them."""
        if method != "GET":
            raise RequestError(405, f"{method} is not allowed on {path}; use GET.")
        one = _MODEL.match(path)
        if one is None:
            self._send_json(200, {"models": [self._model(name) for name in LISTED_MODELS]})
        else:
            self._send_json(200, self._model(one.group(2)))

    def _model(self, name: str) -> dict[str, Any]:
        return {
            "name": f"models/{name}",
            "version": self.emulator.offline_mark,
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

    def _files(self, method: str, path: str) -> None:
        files = self.emulator.files
        one = _FILE.match(path)
        if one and method == "GET":
            self._send_json(200, files.get(one.group(2)).resource(self._base_url()))
        elif one and method == "DELETE":
            files.delete(one.group(2))
            self._send_json(200, {})
        elif not one and method == "GET":
            listed = [f.resource(self._base_url()) for f in files.list()]
            self._send_json(200, {"files": listed} if listed else {})
        else:
            raise RequestError(405, f"{method} is not allowed on {path}.")

    # -- control API ------------------------------------------------------------------

    def _control(self, method: str, path: str, raw: bytes) -> None:
        emulator = self.emulator
        action = path[len(CONTROL_PREFIX) :].strip("/")
        body = wire.parse_json(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise RequestError(400, "The control API takes a JSON object.")
        try:
            if (action, method) == ("log", "GET"):
                self._send_json(200, {"requests": [r.to_json() for r in emulator.log]})
            elif (action, method) == ("faults", "POST"):
                params = dict(body)
                kind = params.pop("kind", None)
                count = params.pop("count", 1)
                result = emulator.inject(str(kind), count, **params)
                expired = result if isinstance(result, list) else []
                self._send_json(
                    200,
                    {
                        "pending": [f.to_json() for f in emulator.faults.pending()],
                        "expired": expired,
                    },
                )
            elif (action, method) == ("faults", "GET"):
                self._send_json(200, {"pending": [f.to_json() for f in emulator.faults.pending()]})
            elif (action, method) == ("reset", "POST"):
                emulator.reset()
                self._send_json(200, {})
            elif action == "config" and method in ("GET", "POST"):
                emulator.configure(**body)
                self._send_json(200, emulator.config())
            else:
                raise RequestError(404, f"No control action {method} {path}.")
        except GeminiMagicError as exc:
            raise RequestError(400, exc.message) from None
        except TypeError as exc:
            raise RequestError(400, f"Bad control request: {exc}") from None


def _closing(parts: Iterator[dict[str, Any]], sandbox: Sandbox) -> Iterator[dict[str, Any]]:
    """Yield the parts, then remove the sandbox before the answer's last byte is sent."""
    yield from parts
    sandbox.close()


def _candidate(
    parts: list[dict[str, Any]], final: bool = False, fault: Fault | None = None
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if final:
        finish = fault is not None and fault.kind == "finish"
        candidate["finishReason"] = fault.params["reason"] if finish else "STOP"
    return candidate


def _status_error(fault: Fault) -> RequestError:
    code = int(fault.params["code"])
    headers: dict[str, str] = {}
    details = None
    retry_after = fault.params.get("retry_after")
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
        details = [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after}s"}
        ]
    return RequestError(code, fault.params.get("message"), headers=headers, details=details)
