"""Ending a thread's request to the service from another thread, at once.

``%gemini cancel`` and a kernel shutdown stop a background turn from outside its
thread, and that thread is usually blocked reading the socket: the model is thinking,
or the stream stalled.  Closing the SDK's stream or its HTTP response from the
cancelling thread does not wake that read (tried with google-genai 3.6.1 over real HTTP:
the read waited for the stall to end); shutting the response's socket down does, at
once, on both APIs.  The socket is reached through the response's documented
``network_stream`` extension (httpx / httpcore).

A thread arms an :class:`Abort` around its sends (:meth:`Abort.armed`). The client
(``api.client``) hands every response it opens to :func:`on_response`, in the thread
that sent the request, and so to that thread's armed :class:`Abort`; :meth:`Abort.fire`,
from any thread, hangs up the response in flight (or the next one, the moment it opens),
and the thread sends no further request (:func:`on_request`).
:func:`~gemini_magic.api.errors.service_call` then turns the failed read into
:class:`Aborted`, a ``KeyboardInterrupt``: the turn ends exactly as an interrupted one
(on Interactions the interaction is cancelled at the service, nothing is recorded).

What it cannot end early: a request whose reply has not begun (no response yet: a
``--no-stream`` answer, or a service slow to send its headers) has no response to hang
up; it is ended the moment its reply begins, or by the client's timeout.  A stream
whose first event arrived has begun (not checked: whether the service sends a stream's
headers before the model's first event).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

_THREAD = threading.local()


class Aborted(KeyboardInterrupt):
    """A send was ended from another thread: it ends the way an interrupted one does."""


class Abort:
    """The way to end one thread's request in flight from another thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fired = False
        self._response: Any = None

    @property
    def fired(self) -> bool:
        return self._fired

    def fire(self) -> None:
        """End the request in flight now, and any the thread opens after."""
        with self._lock:
            self._fired = True
            response = self._response
        if response is not None:
            _hang_up(response)

    def opened(self, response: Any) -> None:
        """The armed thread opened ``response`` (headers read, body still to come)."""
        with self._lock:
            self._response = response
            fired = self._fired
        if fired:
            _hang_up(response)

    @contextlib.contextmanager
    def armed(self) -> Iterator[Abort]:
        """Within the block, the responses this thread opens can be ended by :meth:`fire`."""
        previous = getattr(_THREAD, "abort", None)
        _THREAD.abort = self
        try:
            yield self
        finally:
            _THREAD.abort = previous
            with self._lock:
                self._response = None


@contextlib.contextmanager
def unarmed() -> Iterator[None]:
    """Within the block, this thread's requests are sent whatever its abort says: the
    cancel request that tells the service a send was ended."""
    previous = getattr(_THREAD, "abort", None)
    _THREAD.abort = None
    try:
        yield
    finally:
        _THREAD.abort = previous


def current() -> Abort | None:
    """The :class:`Abort` armed in this thread, if any."""
    return getattr(_THREAD, "abort", None)


def on_request(request: Any) -> None:
    """The client's request hook: an armed thread whose send was ended sends no more."""
    abort = current()
    if abort is not None and abort.fired:
        raise Aborted


def on_response(response: Any) -> None:
    """The client's response hook: the armed :class:`Abort` learns of ``response``."""
    abort = current()
    if abort is not None:
        abort.opened(response)


def _hang_up(response: Any) -> None:
    """Shut down the socket a response is read from, waking a read blocked on it.

    A response already closed has given its connection back to the pool, where another
    thread's request may use it: that one is left alone.
    """
    if getattr(response, "is_closed", True):
        return
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        # Already shut or closed by the reading thread: nothing left to wake.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
