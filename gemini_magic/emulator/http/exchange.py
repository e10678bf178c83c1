"""One request being answered: what it asked, and how its answer is written.

:class:`Exchange` is what every route module is given: the request (method, path,
query, body, API key) and the ways to answer it (a JSON body, any bytes, server-sent
events, a fault mid-stream).  The server's connection handler
(:class:`~gemini_magic.emulator.http.server.Handler`) is an ``Exchange`` that also
reads the request and picks the route, so the route modules import this module, never
the server's.
"""

from __future__ import annotations

import contextlib
import json
import socket
from http.server import BaseHTTPRequestHandler
from typing import Any

from gemini_magic.emulator.answers.faults import Fault
from gemini_magic.emulator.http.shared import SharedState
from gemini_magic.emulator.wire.codec import (
    DEFAULT_MESSAGES,
    GENERATE_ERRORS,
    ErrorDialect,
    RequestError,
)
from gemini_magic.emulator.wire.log import LoggedRequest


class Dropped(Exception):
    """The connection was cut on purpose (the ``drop`` and ``malformed_event`` faults)."""


class Exchange(BaseHTTPRequestHandler):
    """The request being answered and the writing of its answer.

    Route modules read ``method``, ``url_path``, ``query``, ``raw``, ``headers`` and
    :attr:`api_key`, and write through :meth:`send_json`, :meth:`send` and the stream
    methods; ``dialect`` says how errors are written for the API being answered.
    """

    emulator: SharedState
    method: str
    url_path: str
    query: dict[str, str]
    raw: bytes
    status: int
    bytes_out: int
    streaming: bool
    dialect: ErrorDialect = GENERATE_ERRORS
    _generation: int
    _recorded: bool

    def begin(self, method: str, url_path: str, query: dict[str, str], logged: bool) -> None:
        """Start answering a new request on this connection (keep-alive reuses it)."""
        self.status = 0
        self.bytes_out = 0
        self.streaming = False
        self.dialect = GENERATE_ERRORS
        self._generation = self.emulator.generation
        self.method, self.url_path, self.raw, self.query = method, url_path, b"", query
        self._recorded = not logged

    def record(self) -> None:
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
        query = {**self.query, "key": "***"} if "key" in self.query else self.query
        try:
            body = json.loads(self.raw) if self.raw else None
        except ValueError:
            body = None
        self.emulator.record(
            LoggedRequest(
                self.method,
                self.url_path,
                query,
                headers,
                body,
                self.raw,
                len(self.raw),
                self.status,
                self.bytes_out,
            ),
            self._generation,
        )

    @property
    def api_key(self) -> str:
        """The caller's API key (header or ``?key=``), empty when none was sent."""
        return self.headers.get("x-goog-api-key") or self.query.get("key") or ""

    def base_url(self) -> str:
        """This server's URL as the client reached it (for Files-API URIs)."""
        host = self.headers.get("Host")
        if not host:
            address, port = self.server.server_address[:2]
            bound = "127.0.0.1" if address in ("", "0.0.0.0") else address
            host = f"{bound}:{port}"
        return f"http://{host}"

    # -- whole answers ----------------------------------------------------------------

    def _head(self, status: int, content_type: str, headers: dict[str, str], length: int) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.status = status

    def send(self, status: int, data: bytes, content_type: str, headers: dict[str, str]) -> None:
        """Send a whole answer (logged just before its bytes go out)."""
        self._head(status, content_type, headers, len(data))
        self.bytes_out += len(data)
        self.record()
        self.wfile.write(data)

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Send ``body`` as a JSON answer."""
        data = json.dumps(body).encode("utf-8")
        self.send(status, data, "application/json; charset=UTF-8", headers or {})

    def send_half_and_drop(self, body: Any) -> None:
        """Announce a whole JSON body, send half of it and cut the connection."""
        data = json.dumps(body).encode()
        self._head(200, "application/json; charset=UTF-8", {}, len(data))
        self.wfile.write(data[: len(data) // 2])
        self.bytes_out += len(data) // 2
        self.drop()

    def send_error_reply(self, exc: RequestError) -> None:
        """The error in this API's dialect: an error body, or an event mid-stream."""
        if self.streaming:
            event, body = self.dialect.event(exc)
            self.write_event(body, event)
            self.end_stream()
        else:
            self.send_json(exc.code, self.dialect.body(exc), exc.headers)

    # -- streams ----------------------------------------------------------------------

    def start_stream(self) -> None:
        """Send the headers of a chunked ``text/event-stream`` answer."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.status = 200
        self.streaming = True

    def write_chunk(self, data: bytes) -> None:
        """Write raw bytes as one chunk of the stream."""
        self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))
        self.bytes_out += len(data)

    def write_event(self, body: Any, event: str | None = None) -> None:
        """One server-sent event: ``event: <name>`` (when named) and ``data: <json>``."""
        data = json.dumps(body).encode("utf-8")
        if event:  # the Interactions API's documented form
            self.write_chunk(b"event: %s\ndata: %s\n\n" % (event.encode(), data))
        else:
            self.write_chunk(b"data: " + data + b"\r\n\r\n")

    def end_stream(self) -> None:
        """Send the last chunk (the request is logged just before)."""
        self.record()
        self.wfile.write(b"0\r\n\r\n")
        self.streaming = False

    def after_event(self, sent: int, fault: Fault | None, malformed: bytes) -> None:
        """Apply the delay and any mid-stream fault due after ``sent`` events.

        ``malformed`` is the broken event this API's ``malformed_event`` fault writes.
        """
        if fault and fault.params.get("after") == sent:
            if fault.kind == "stream_error":
                code = int(fault.params["code"])
                raise RequestError(code, fault.params["message"] or DEFAULT_MESSAGES.get(code))
            if fault.kind == "malformed_event":
                self.write_chunk(malformed)
                self.end_stream()
                raise Dropped
            if fault.kind == "drop":
                self.drop()
            if fault.kind == "stall":
                self.emulator.wait(float(fault.params["seconds"]))
        if self.emulator.delay > 0:
            self.emulator.wait(self.emulator.delay)

    def drop(self) -> None:
        """Cut the connection now (a fault): the client sees it closed mid-answer."""
        self.record()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        raise Dropped
