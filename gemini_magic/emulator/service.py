"""The :class:`Emulator`: an offline Gemini REST service on a local port.

It owns the state shared by the server's threads (files, faults, the request log,
scripted replies, settings), the server's lifetime and its API key.  Use it as a
context manager, or call :meth:`Emulator.start` / :meth:`Emulator.stop`.

The emulator runs the code of its replies as the user who started it, so it answers
only whoever holds its key (:attr:`Emulator.key`, random unless one is chosen): on a
shared machine every user can reach every loopback port.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
from typing import Any

from gemini_magic.emulator.answers.faults import IMMEDIATE_KINDS, Fault, FaultQueue, make_fault
from gemini_magic.emulator.answers.replies import (
    ENV_VAR,
    RepliesSource,
    ScriptedReply,
    load_replies,
)
from gemini_magic.emulator.http.server import EmulatorHTTPServer
from gemini_magic.emulator.store.caches import CacheStore
from gemini_magic.emulator.store.files import FileStore
from gemini_magic.emulator.store.interactions import InteractionStore
from gemini_magic.emulator.wire.log import LoggedRequest
from gemini_magic.errors import ConfigurationError
from gemini_magic.models import OFFLINE_MARK

DEFAULT_EXEC_TIMEOUT = 30.0
"""Seconds each code execution may run, as on the service."""


class Emulator:
    """The Gemini REST API (generateContent, Interactions, Files API, caches) on localhost.

    ``replies`` is a replies file (YAML/JSON) or the rules as Python data; by default
    the file named by ``GEMINI_EMULATOR_REPLIES``, if set.  ``delay`` is the pause
    between streamed events.  ``port=0`` picks a free port (see :attr:`url`).
    ``key`` is the API key every request must carry (:attr:`key`); by default a random
    one, made here.
    """

    offline_mark = OFFLINE_MARK

    def __init__(
        self,
        replies: RepliesSource = None,
        delay: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        exec_timeout: float = DEFAULT_EXEC_TIMEOUT,
        key: str | None = None,
    ) -> None:
        if key is not None and (not isinstance(key, str) or not key.strip()):
            raise ConfigurationError("The offline emulator's API key must be a non-empty string.")
        #: The API key the SDK must send (``GEMINI_API_KEY``); any other is refused.
        self.key: str = key if key is not None else secrets.token_urlsafe(32)
        self._more_keys: list[str] = []
        if replies is None:
            replies = os.environ.get(ENV_VAR) or None
        self._initial_replies = load_replies(replies)
        self._initial_delay = delay
        self._initial_exec_timeout = exec_timeout
        self.replies_rules: list[ScriptedReply] = self._initial_replies
        self.delay = delay
        self.exec_timeout = exec_timeout
        self.host = host
        self.port = port
        self.files = FileStore()
        self.caches = CacheStore()
        self.interactions = InteractionStore(OFFLINE_MARK)
        self.faults = FaultQueue()
        self._log: list[LoggedRequest] = []
        #: Bumped by reset(): a request that began before a reset is not logged after it.
        self.generation = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifetime ---------------------------------------------------------------------

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
        self._wake_all()
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

    # -- who may call it ---------------------------------------------------------------

    def accepts(self, key: str) -> bool:
        """Whether ``key`` is this emulator's key (or one :meth:`add_key` made)."""
        given = key.encode("utf-8", "surrogateescape")
        return any(
            hmac.compare_digest(given, known.encode("utf-8", "surrogateescape"))
            for known in [self.key, *self._more_keys]
        )

    def add_key(self, key: str | None = None) -> str:
        """Accept ``key`` too (default: a new random one) until :meth:`reset`, and
        return it: another caller of the same service, whose stored interactions are
        not this key's, or a test's own key-shaped secret."""
        if key is None:
            key = secrets.token_urlsafe(32)
        elif not isinstance(key, str) or not key.strip():
            raise ConfigurationError("An API key must be a non-empty string.")
        self._more_keys.append(key)
        return key

    # -- state for tests --------------------------------------------------------------

    @property
    def log(self) -> list[LoggedRequest]:
        """The API requests received, oldest first (a copy)."""
        with self._lock:
            return list(self._log)

    def record(self, entry: LoggedRequest, generation: int) -> None:
        """Append to the log (called by the server's threads).

        A request that began before the last :meth:`reset` (a stream its client gave up
        on, still unwinding) belongs to an earlier test and is dropped.
        """
        with self._lock:
            if generation == self.generation:
                self._log.append(entry)

    def inject(self, kind: str, count: int = 1, **params: Any) -> Fault | list[str]:
        """Make the next ``count`` requests misbehave (see ``faults`` for the kinds).

        ``expire_file``, ``expire_cache`` and ``expire_interaction`` act at once and
        return the names of the files (caches, interaction ids) they expired.
        """
        if kind in IMMEDIATE_KINDS:
            unknown = set(params) - {"name"}
            if unknown:
                raise ConfigurationError(f"Fault {kind!r} takes only name=, not {sorted(unknown)}.")
            if kind == "expire_cache":
                return self.caches.expire(params.get("name"))
            if kind == "expire_interaction":
                return self.interactions.expire(params.get("name"))
            return self.files.expire(params.get("name"))
        fault = make_fault(kind, count, **params)
        self.faults.add(fault)
        return fault

    def set_replies(self, replies: RepliesSource) -> None:
        """Replace the scripted replies (a path or the rules as data)."""
        self.replies_rules = load_replies(replies)

    def configure(
        self,
        delay: float | None = None,
        exec_timeout: float | None = None,
        replies: RepliesSource = None,
    ) -> None:
        """Change settings (what ``POST /_emulator/config`` does)."""
        if delay is not None:
            self.delay = float(delay)
        if exec_timeout is not None:
            self.exec_timeout = float(exec_timeout)
        if replies is not None:
            self.set_replies(replies)

    def config(self) -> dict[str, Any]:
        """The current settings, as the control API reports them."""
        return {
            "delay": self.delay,
            "exec_timeout": self.exec_timeout,
            "replies": len(self.replies_rules),
            "faults": [f.to_json() for f in self.faults.pending()],
            "interactions": len(self.interactions.list()),
        }

    def reset(self) -> None:
        """Back to the state after start: no faults, log, files, caches, interactions,
        added keys; the initial settings."""
        self._wake_all()
        self._more_keys = []
        self.faults.clear()
        self.files.clear()
        self.caches.clear()
        self.interactions.clear()
        with self._lock:
            self._log.clear()
            self.generation += 1
        self.delay = self._initial_delay
        self.exec_timeout = self._initial_exec_timeout
        self.replies_rules = self._initial_replies

    def wait(self, seconds: float) -> None:
        """Sleep for a stall or a delay, cut short by :meth:`reset` or :meth:`stop`."""
        self._wake.wait(seconds)

    def _wake_all(self) -> None:
        woken, self._wake = self._wake, threading.Event()
        woken.set()
