"""What the server's threads share: stores, faults, the request log, settings, the key.

:class:`SharedState` is the emulator as a request sees it.  The route modules and the
request plumbing (:mod:`exchange`) are typed by it; :class:`~gemini_magic.emulator.
service.Emulator` adds the server's lifetime on top.  So nothing in ``http/`` imports
the module that starts the server, which imports ``http/``.
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
from gemini_magic.emulator.store.caches import CacheStore
from gemini_magic.emulator.store.files import FileStore
from gemini_magic.emulator.store.interactions import InteractionStore
from gemini_magic.emulator.wire.log import LoggedRequest
from gemini_magic.errors import ConfigurationError
from gemini_magic.models import OFFLINE_MARK

__all__ = ["DEFAULT_EXEC_TIMEOUT", "OFFLINE_MARK", "SharedState"]

DEFAULT_EXEC_TIMEOUT = 30.0
"""Seconds each code execution may run, as on the service."""


class SharedState:
    """Files, caches, interactions, faults, the log, scripted replies, settings, the key.

    ``replies`` is a replies file (YAML/JSON) or the rules as Python data; by default
    the file named by ``GEMINI_EMULATOR_REPLIES``, if set.  ``delay`` is the pause
    between streamed events.  ``key`` is the API key every request must carry
    (:attr:`key`); by default a random one, made here.
    """

    offline_mark = OFFLINE_MARK

    def __init__(
        self,
        replies: RepliesSource = None,
        delay: float = 0.0,
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
        self.files = FileStore()
        self.caches = CacheStore()
        self.interactions = InteractionStore(OFFLINE_MARK)
        self.faults = FaultQueue()
        self._log: list[LoggedRequest] = []
        #: Bumped by reset(): a request that began before a reset is not logged after it.
        self.generation = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()

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
        self.wake_all()
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
        """Sleep for a stall or a delay, cut short by :meth:`reset` or :meth:`wake_all`."""
        self._wake.wait(seconds)

    def wake_all(self) -> None:
        """End every stall and delay now (a reset, or the server stopping)."""
        woken, self._wake = self._wake, threading.Event()
        woken.set()
