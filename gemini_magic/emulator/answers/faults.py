"""Faults on demand: the next N requests misbehave in a chosen way.

Each kind lists the requests it applies to and the parameters it takes; a request
takes the first queued fault that applies to it.  Kinds:

``status``          answer with HTTP ``code`` (``message``; ``retry_after`` seconds for 429,
                    default 1) instead of the real answer.
``stall``           wait ``seconds`` (default 60) before answering, or mid-stream after
                    ``after`` events; for client timeouts.  A stop or reset ends it.
``stream_error``    an error event (``code``, default 500) after ``after`` events.
``malformed_event`` an event that is not JSON, after ``after`` events.
``drop``            the connection is closed after ``after`` events (or, for a plain
                    generateContent, in the middle of the body).
``huge``            the reply is ``size`` characters of text (default 2,000,000).
``finish``          the usual reply, ended with finishReason ``reason`` (default
                    ``MAX_TOKENS``) instead of ``STOP``.
``answer_as``       the usual reply, but answered by (and naming) another ``model``, as
                    the service does for a retired model it re-routes.
``continuation``    Interactions only: the reply is past the per-request decode limit, so
                    it comes in ``hops`` interactions (default 2), each but the last
                    ending ``requires_continuation`` with a ``continuation_token``.
``expire_file``     immediate, not queued: the file ``name`` (or every uploaded file)
                    expires now, so later references get 403 as on the service.
``expire_cache``    immediate, not queued: the context cache ``name`` (or every cache)
                    expires now, so later requests naming it get 403 as on the service.
``expire_interaction`` immediate, not queued: the stored interaction ``name`` (or every
                    stored interaction) expires now, so a later ``get`` or
                    ``previous_interaction_id`` naming it gets 404 ``not_found``.

``status`` and ``stall`` apply to every API request; the others to the requests that
produce a reply (generateContent, Interactions ``create``), the stream faults to streams.
On Interactions, ``finish`` ends the interaction with status ``incomplete``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from gemini_magic.errors import ConfigurationError

GENERATE, STREAM, FILES, CACHES = "generate", "stream", "files", "caches"
INTERACT, INTERACT_STREAM = "interact", "interact_stream"
"""An Interactions ``create``, answered whole or streamed."""
INTERACT_MANAGE = "interact_manage"
"""An Interactions ``get``, ``delete`` or ``cancel``."""

_ALL = frozenset({GENERATE, STREAM, FILES, CACHES, INTERACT, INTERACT_STREAM, INTERACT_MANAGE})
_REPLIES = frozenset({GENERATE, STREAM, INTERACT, INTERACT_STREAM})
_STREAMS = frozenset({STREAM, INTERACT_STREAM})
_INTERACT_REPLIES = frozenset({INTERACT, INTERACT_STREAM})

_KINDS: dict[str, tuple[frozenset[str], dict[str, Any]]] = {
    "status": (_ALL, {"code": None, "message": None, "retry_after": None}),
    "stall": (_ALL, {"seconds": 60.0, "after": None}),
    "stream_error": (_STREAMS, {"code": 500, "message": None, "after": 1}),
    "malformed_event": (_STREAMS, {"after": 1}),
    "drop": (_REPLIES, {"after": 1}),
    "huge": (_REPLIES, {"size": 2_000_000}),
    "finish": (_REPLIES, {"reason": "MAX_TOKENS"}),
    "answer_as": (_REPLIES, {"model": "gemini-2.5-flash-lite"}),
    "continuation": (_INTERACT_REPLIES, {"hops": 2}),
}
IMMEDIATE_KINDS = frozenset({"expire_file", "expire_cache", "expire_interaction"})
KINDS = frozenset(_KINDS) | IMMEDIATE_KINDS


@dataclass
class Fault:
    """A queued fault: its kind, how many requests it still hits, its parameters."""

    kind: str
    count: int
    params: dict[str, Any] = field(default_factory=dict)
    path: re.Pattern[str] | None = None

    def applies(self, request_kind: str, path: str) -> bool:
        """Whether a request of ``request_kind`` at ``path`` takes this fault."""
        targets = _KINDS[self.kind][0]
        return request_kind in targets and (self.path is None or bool(self.path.search(path)))

    def to_json(self) -> dict[str, Any]:
        """The fault as the control API reports it."""
        return {"kind": self.kind, "count": self.count, **self.params}


def make_fault(kind: str, count: int = 1, **params: Any) -> Fault:
    """Check ``kind`` and ``params`` and build the fault; ConfigurationError if wrong."""
    if kind not in _KINDS:
        raise ConfigurationError(f"Unknown fault kind {kind!r}; known: {', '.join(sorted(KINDS))}.")
    if not isinstance(count, int) or count < 1:
        raise ConfigurationError(f"Fault count must be a positive integer, got {count!r}.")
    path = params.pop("path", None)
    defaults = _KINDS[kind][1]
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ConfigurationError(
            f"Fault {kind!r} takes {', '.join(sorted(defaults)) or 'no parameters'}, "
            f"not {', '.join(unknown)}."
        )
    values = {**defaults, **params}
    if kind == "status":
        code = values["code"]
        if not isinstance(code, int) or not 400 <= code <= 599:
            raise ConfigurationError(f"Fault 'status' needs code=4xx or 5xx, got {code!r}.")
        if code == 429 and values["retry_after"] is None:
            values["retry_after"] = 1
    if kind == "continuation" and (not isinstance(values["hops"], int) or values["hops"] < 2):
        raise ConfigurationError(
            f"Fault 'continuation' needs hops=2 or more, got {values['hops']!r}."
        )
    try:
        pattern = re.compile(path) if path else None
    except re.error as exc:
        raise ConfigurationError(f"Bad fault path regex {path!r}: {exc}") from None
    return Fault(kind, count, values, pattern)


class FaultQueue:
    """Queued faults, taken one request at a time (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Queue ``fault`` behind the others."""
        with self._lock:
            self._faults.append(fault)

    def take(self, request_kind: str, path: str) -> Fault | None:
        """The first fault that applies to this request, its count spent by one."""
        with self._lock:
            for fault in self._faults:
                if fault.applies(request_kind, path):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        """The faults still queued."""
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._faults.clear()
