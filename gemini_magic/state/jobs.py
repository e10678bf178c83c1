"""Background turns: one worker thread each, in order within a conversation.

``%%gemini --background`` hands its turn to :class:`Jobs` and the cell returns at once.
A turn sent to a conversation that already has one in flight waits for it, so the
chain of turns (and what the ``Sent:`` line says about earlier turns) is exactly what
it would be in the foreground; turns of different conversations run side by side.

Nothing here knows IPython: the magic passes the work and the hooks that route a
thread's outputs to its own cell.  Cancelling takes effect at once: the job calls the
stop its work registered (:meth:`Job.on_cancel`: the worker's request in flight is
ended, see ``api.abort``), and :meth:`Job.check` raises :class:`Cancelled` (a
``KeyboardInterrupt``) at the next streamed part, so a turn stops exactly as an
interrupted foreground turn does (the interaction cancelled, the shown part marked
incomplete, nothing recorded).  A failure is kept on its job until
``%gemini wait`` raises it: nothing is printed and swallowed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

WAITING = "waiting"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"

#: How often a waiting thread looks whether it was cancelled (seconds).
_POLL = 0.05


class Cancelled(KeyboardInterrupt):
    """A background turn was cancelled: it ends the way an interrupted turn does."""


@dataclass(eq=False)
class Job:
    """One background turn: the cell that asked, its conversation, where it stands."""

    number: int
    conversation: str
    prompt: str
    state: str = WAITING
    #: The job this one waits for (the conversation's turn in flight when it was sent).
    after: Job | None = None
    error: BaseException | None = None
    #: Whether the turn began (False: cancelled while it waited for the one before).
    ran: bool = False
    #: Whether ``%gemini wait`` raised the failure already (it is raised once).
    reported: bool = False
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    thread: threading.Thread | None = None
    _cancel: threading.Event = field(default_factory=threading.Event)
    _done: threading.Event = field(default_factory=threading.Event)
    #: What ends the work's request in flight when the job is cancelled.
    _stop: Callable[[], None] | None = None
    _stop_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def cancel(self) -> bool:
        """Ask the turn to stop; False when it had already finished."""
        if self.finished:
            return False
        with self._stop_lock:
            self._cancel.set()
            stop = self._stop
        if stop is not None:
            stop()
        return True

    def on_cancel(self, stop: Callable[[], None]) -> None:
        """Call ``stop`` (from the cancelling thread) when the job is cancelled: at once
        if it was already."""
        with self._stop_lock:
            self._stop = stop
            cancelled = self._cancel.is_set()
        if cancelled:
            stop()

    def sleep(self, seconds: float) -> None:
        """Pause ``seconds`` (before a retry), ended at once by a cancel (:class:`Cancelled`)."""
        if self._cancel.wait(seconds):
            raise Cancelled

    def check(self) -> None:
        """Raise :class:`Cancelled` if the turn was asked to stop (called per part)."""
        if self._cancel.is_set():
            raise Cancelled

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the turn finished (or ``timeout``); return whether it did."""
        return self._done.wait(timeout)

    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started


class Jobs:
    """The background turns of one session, and their worker threads."""

    def __init__(self) -> None:
        self._jobs: list[Job] = []
        self._lock = threading.Lock()
        self._count = 0

    def __iter__(self) -> Iterator[Job]:
        with self._lock:
            return iter(list(self._jobs))

    def start(
        self,
        conversation: str,
        prompt: str,
        work: Callable[[Job], None],
        *,
        number: int | None = None,
        enter: Callable[[Job], None] | None = None,
        ended: Callable[[Job], None] | None = None,
    ) -> Job:
        """Run ``work(job)`` in a new thread, after the conversation's turn in flight.

        ``number`` names the job (the cell's execution count); ``enter(job)`` runs first
        in the thread (routing its outputs to the cell, saying what it waits for);
        ``ended(job)`` runs last there, when the job is done, failed or cancelled (to
        show a failure in the cell: it is kept for ``%gemini wait`` all the same).
        """
        with self._lock:
            self._count += 1
            after = next((j for j in reversed(self._jobs) if j.conversation == conversation), None)
            if after is not None and after.finished:
                after = None
            if number is None or any(j.number == number for j in self._jobs):
                number = max([self._count, *(j.number + 1 for j in self._jobs)])
            job = Job(number=number, conversation=conversation, prompt=prompt, after=after)
            self._jobs.append(job)
        job.thread = threading.Thread(
            target=self._run,
            args=(job, work, enter, ended),
            name=f"gemini-magic-job-{job.number}",
            daemon=True,
        )
        job.thread.start()
        return job

    def _run(
        self,
        job: Job,
        work: Callable[[Job], None],
        enter: Callable[[Job], None] | None,
        ended: Callable[[Job], None] | None,
    ) -> None:
        try:
            if enter is not None:
                enter(job)
            if job.after is not None:
                while not job.after.wait(_POLL):
                    job.check()
            job.check()
            job.state, job.ran = RUNNING, True
            work(job)
            job.state = DONE
        except KeyboardInterrupt:  # Cancelled, or the work's own interrupt handling
            job.state = CANCELLED
        except BaseException as error:  # kept for %gemini wait, which raises it
            job.state, job.error = FAILED, error
        finally:
            job.ended = time.monotonic()
            if ended is not None:
                # Showing the end may fail too: wait still raises a failure itself.
                with contextlib.suppress(Exception):
                    ended(job)
            job._done.set()

    def select(self, conversation: str | None = None) -> list[Job]:
        """Every job (None), or those of one conversation."""
        return [j for j in self if conversation is None or j.conversation == conversation]

    def find(self, number: int) -> Job | None:
        return next((j for j in self if j.number == number), None)

    def running(self) -> list[Job]:
        return [j for j in self if not j.finished]

    def wait(
        self, jobs: Iterable[Job], on_interrupt: Callable[[list[Job]], None] | None = None
    ) -> list[Job]:
        """Block until ``jobs`` finished; raise the first failure not raised before.

        An interrupt while waiting cancels the jobs waited for (``on_interrupt`` is told
        which) and is raised again.
        """
        chosen = list(jobs)
        try:
            for job in chosen:
                while not job.wait(_POLL):
                    pass
        except KeyboardInterrupt:
            stopped = [job for job in chosen if job.cancel()]
            if on_interrupt is not None:
                on_interrupt(stopped)
            raise
        for job in chosen:
            if job.error is not None and not job.reported:
                job.reported = True
                raise job.error
        return chosen

    def cancel_all(self) -> list[Job]:
        """Cancel every turn still waiting or running; return them."""
        return [job for job in self.running() if job.cancel()]

    def shutdown(self, timeout: float = 5.0) -> None:
        """Cancel every turn and join the threads (the kernel stops or restarts).

        A cancelled turn ends its request at once, so ``timeout`` is only a bound.
        """
        stopping = self.cancel_all()
        deadline = time.monotonic() + timeout
        for job in stopping:
            if job.thread is not None:
                job.thread.join(max(0.0, deadline - time.monotonic()))
