"""HTTP plumbing: the threading server, one connection's handler, JSON and SSE writing.

Stdlib only (``http.server``), HTTP/1.1 keep-alive, chunked server-sent events that
the SDK reads as they come.  Whatever a request holds, the answer is an HTTP response
(an error body at worst); no request can take the server down.  What a request means
is decided elsewhere: :mod:`routes` for the API, :mod:`control_routes` for the
``/_emulator/`` control API.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from gemini_magic.emulator.http import control as control_routes
from gemini_magic.emulator.http import routes
from gemini_magic.emulator.wire.codec import (
    DEFAULT_MESSAGES,
    GENERATE_ERRORS,
    ErrorDialect,
    RequestError,
    key_refused,
)
from gemini_magic.emulator.wire.log import LoggedRequest

if TYPE_CHECKING:
    from gemini_magic.emulator.answers.faults import Fault
    from gemini_magic.emulator.service import Emulator

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/_emulator/"


class Dropped(Exception):
    """The connection was cut on purpose (the ``drop`` and ``malformed_event`` faults)."""


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
    """One connection; each request is read here and answered by a route module.

    Route modules write through :meth:`send_json`, :meth:`send` and the stream
    methods; ``dialect`` says how errors are written for the API being answered.
    """

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
        if not getattr(self, "refused", False):
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

    @property
    def emulator(self) -> Emulator:
        return self.server.emulator

    def _handle(self, method: str) -> None:
        self.refused = False
        self.status = 0
        self.bytes_out = 0
        self.streaming = False
        self.dialect: ErrorDialect = GENERATE_ERRORS
        self._generation = self.emulator.generation
        url = urlsplit(self.path)
        self.method, self.url_path, self.raw = method, url.path, b""
        self.query = dict(parse_qsl(url.query))
        control = url.path.startswith(CONTROL_PREFIX)
        self._recorded = control  # control requests are not logged
        try:
            self.raw = self._read_body()
            if not routes.key_exempt(self) and not self.emulator.accepts(self.api_key):
                self.refused = self._recorded = True  # nothing run, nothing logged
                raise key_refused(self.api_key)
            if control:
                control_routes.serve(self, url.path[len(CONTROL_PREFIX) :].strip("/"))
            else:
                routes.serve(self)
        except RequestError as exc:
            self.send_error_reply(exc)
        except (Dropped, BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:
            logger.exception("emulator failed on %s %s", method, url.path)
            self._internal_error(exc)
        finally:
            self.record()

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

    @property
    def api_key(self) -> str:
        """The caller's API key (header or ``?key=``), empty when none was sent."""
        return self.headers.get("x-goog-api-key") or self.query.get("key") or ""

    def base_url(self) -> str:
        """This server's URL as the client reached it (for Files-API URIs)."""
        return f"http://{self.headers.get('Host') or self.emulator.url.split('//', 1)[1]}"

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

    def _internal_error(self, exc: Exception) -> None:
        """An emulator bug still gets a 500 body (or an error event mid-stream)."""
        error = RequestError(500, f"Offline emulator internal error: {type(exc).__name__}: {exc}")
        try:
            if self.status == 0 or self.streaming:
                self.send_error_reply(error)
            else:
                self.close_connection = True
        except OSError:
            self.close_connection = True

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
