"""HTTP plumbing: the threading server and one connection's handler.

Stdlib only (``http.server``), HTTP/1.1 keep-alive, chunked server-sent events that
the SDK reads as they come.  Whatever a request holds, the answer is an HTTP response
(an error body at worst); no request can take the server down.  What a request means
is decided elsewhere: :mod:`routes` for the API, :mod:`control` for the
``/_emulator/`` control API; how an answer is written, in :mod:`exchange`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from gemini_magic.emulator.http import control, routes
from gemini_magic.emulator.http.exchange import Dropped, Exchange
from gemini_magic.emulator.http.shared import SharedState
from gemini_magic.emulator.wire.codec import RequestError, key_refused

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/_emulator/"


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threading server that knows its emulator and can close idle keep-alives."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: SharedState) -> None:
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


class Handler(Exchange):
    """One connection: each request is read here and answered by a route module."""

    protocol_version = "HTTP/1.1"
    # Each server-sent event goes out when written, as from the service; with Nagle's
    # algorithm a small event could wait ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server_version = "gemini-emulator"
    sys_version = ""
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        self.emulator = self.server.emulator
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

    def _handle(self, method: str) -> None:
        self.refused = False
        url = urlsplit(self.path)
        control_request = url.path.startswith(CONTROL_PREFIX)
        # control requests are not logged
        self.begin(method, url.path, dict(parse_qsl(url.query)), logged=not control_request)
        try:
            self.raw = self._read_body()
            if not routes.key_exempt(self) and not self.emulator.accepts(self.api_key):
                self.refused = self._recorded = True  # nothing run, nothing logged
                raise key_refused(self.api_key)
            if control_request:
                control.serve(self, url.path[len(CONTROL_PREFIX) :].strip("/"))
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
