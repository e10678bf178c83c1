"""What the server's threads share: the stores, the faults, the request log, the settings.

:class:`SharedState` is the emulator as a request sees it.  The route modules and the
request plumbing (:mod:`exchange`) are typed by it; :class:`~gemini_magic.emulator.
service.Emulator` adds the server's lifetime on top.  So nothing in ``http/`` imports
the module that starts the server, which imports ``http/``.
"""

from __future__ import annotations

import os
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

OFFLINE_MARK = "offline-emulator"
"""Part of every reply's ``modelVersion`` (``f"{model}-{OFFLINE_MARK}"``)."""

DEFAULT_EXEC_TIMEOUT = 30.0
"""Seconds each code execution may run, as on the service."""


class SharedState:
    """Files, caches, interactions, faults, the log, scripted replies and settings.

    ``replies`` is a replies file (YAML/JSON) or the rules as Python data; by default
    the file named by ``GEMINI_EMULATOR_REPLIES``, if set.  ``delay`` is the pause
    between streamed events.
    """

    offline_mark = OFFLINE_MARK

    def __init__(
        self,
        replies: RepliesSource = None,
        delay: float = 0.0,
        exec_timeout: float = DEFAULT_EXEC_TIMEOUT,
    ) -> None:
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
        """Back to the state after start: no faults, log, files, caches, interactions;
        the initial settings."""
        self.wake_all()
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
