"""The :class:`Emulator`: an offline Gemini REST service on a local port.

The state the server's threads share (files, faults, the request log, scripted replies,
settings, the API key) is :class:`~gemini_magic.emulator.http.shared.SharedState`; the
emulator adds the server's lifetime.  Use it as a context manager, or call
:meth:`Emulator.start` / :meth:`Emulator.stop`.

The emulator runs the code of its replies as the user who started it, so it answers
only whoever holds its key (:attr:`Emulator.key`, random unless one is chosen): on a
shared machine every user can reach every loopback port.
"""

from __future__ import annotations

import threading

from gemini_magic.emulator.answers.replies import RepliesSource
from gemini_magic.emulator.http.server import EmulatorHTTPServer
from gemini_magic.emulator.http.shared import DEFAULT_EXEC_TIMEOUT, OFFLINE_MARK, SharedState
from gemini_magic.errors import ConfigurationError

__all__ = ["DEFAULT_EXEC_TIMEOUT", "OFFLINE_MARK", "Emulator"]


class Emulator(SharedState):
    """The Gemini REST API (generateContent, Interactions, Files API, caches) on localhost.

    ``replies`` is a replies file (YAML/JSON) or the rules as Python data; by default
    the file named by ``GEMINI_EMULATOR_REPLIES``, if set.  ``delay`` is the pause
    between streamed events.  ``port=0`` picks a free port (see :attr:`url`).
    ``key`` is the API key every request must carry (:attr:`key`); by default a random
    one, made here.
    """

    def __init__(
        self,
        replies: RepliesSource = None,
        delay: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        exec_timeout: float = DEFAULT_EXEC_TIMEOUT,
        key: str | None = None,
    ) -> None:
        super().__init__(replies, delay, exec_timeout, key)
        self.host = host
        self.port = port
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread; return self."""
        if self._server is not None:
            return self
        try:
            server = EmulatorHTTPServer((self.host, self.port), self)
        except OSError as exc:
            raise ConfigurationError(
                f"The offline emulator cannot listen on {self.host}:{self.port}: {exc}"
            ) from None
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"gemini-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end stalls, close connections and the socket."""
        server, self._server = self._server, None
        if server is None:
            return
        self.wake_all()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL to give the SDK (``GOOGLE_GEMINI_BASE_URL``)."""
        if self._server is None:
            raise ConfigurationError("The offline emulator is not running: call start().")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    @property
    def connections_accepted(self) -> int:
        """TCP connections accepted since start (keep-alive reuses one)."""
        return self._server.connections_accepted if self._server else 0
