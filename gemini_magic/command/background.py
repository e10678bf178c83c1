"""``%%gemini --background``: the turn runs in a thread, its outputs in its own cell.

ipykernel 7 sends a thread's outputs to the newest cell, unless the thread sets the
parent header captured when its cell started (``set_thread_parent``): then its displays,
updates and errors carry the cell that asked, while the next cells' outputs carry
theirs.  Where late outputs cannot be shown the turn runs in the foreground with a
one-line note (:func:`why_foreground`): terminal IPython has no display updates, and a
batch runner (nbclient, so nbconvert, nbval and papermill) keeps only the outputs of
the cell it is running, so a notebook run in batch must wait for every answer.

A failed background turn shows its error in its own cell and keeps it for
``%gemini wait``, which raises it.  Interrupting the kernel while no cell runs cancels
the background turns (:func:`watch_interrupts`); so does a kernel shutdown or restart
(:func:`stop_at_exit`), before the history file could be left half-written.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from IPython.display import display

from gemini_magic.api.abort import Abort
from gemini_magic.display.blocks import Notice
from gemini_magic.display.stream import supports_live_updates
from gemini_magic.state.jobs import CANCELLED, FAILED, Job, Jobs
from gemini_magic.turn import TurnInput, new_view, run_turn

if TYPE_CHECKING:
    from gemini_magic.answer.response import GeminiResponse
    from gemini_magic.session import GeminiSession
    from gemini_magic.settings import TurnSettings


def why_foreground(shell: Any) -> str | None:
    """Why a background prompt must run in the foreground here (None: it need not)."""
    kernel = getattr(shell, "kernel", None)
    if kernel is None or not supports_live_updates(shell):
        return "this front end shows no output that arrives after its cell ended"
    if getattr(kernel, "_allow_stdin", True) is False:
        # Front ends a person uses send allow_stdin true; nbclient sends false.
        return "a batch run keeps only the outputs of the cell it is running"
    return None


def foreground_note(reason: str) -> str:
    return f"--background runs in the foreground here: {reason}."


def start(
    shell: Any,
    session: GeminiSession,
    settings: TurnSettings,
    prompt: TurnInput,
    keep: Callable[[GeminiResponse], None],
) -> Job:
    """Start the turn in a worker thread and return at once (no network I/O here).

    ``keep`` runs in the worker when the answer is complete: it sets ``_gemini``,
    ``-o NAME`` and ``-x``'s cell, and saves the history, as the foreground does.
    """
    jobs = session.jobs
    parent = shell.kernel.get_parent()
    watch_interrupts(shell, jobs)
    stop_at_exit(jobs)
    started: list[Job] = []  # the job, once started (the button cancels it)
    button = _cancel_button(shell)
    if button is not None:
        button.on_click(lambda _: [job.cancel() for job in started])
        handle = display(button, display_id=True)

    def enter(job: Job) -> None:
        set_thread_parent = getattr(shell, "set_thread_parent", None)
        if set_thread_parent is not None:
            set_thread_parent(parent)
        else:
            shell.set_parent(parent)
        if job.after is not None:
            display(
                Notice(
                    f"Waiting for the answer in cell [{job.after.number}] (conversation "
                    f"{settings.conversation!r}); this prompt is sent when that one is "
                    "complete."
                )
            )

    def work(job: Job) -> None:
        abort = Abort()
        # Cancelling ends the request in flight from the cancelling thread, whatever the
        # worker is blocked on (a model still thinking, a stalled stream).
        job.on_cancel(abort.fire)
        view = new_view(settings, check=job.check)
        with abort.armed():
            keep(run_turn(session, settings, prompt, view=view, sleep=job.sleep))

    def ended(job: Job) -> None:
        if button is not None:
            # The output becomes empty before the widget goes: a saved notebook then
            # keeps no view of a widget that no longer exists.
            handle.update({"text/plain": ""}, raw=True)
            button.close()
        if job.state == FAILED and job.error is not None:
            error = job.error
            shell.showtraceback((type(error), error, error.__traceback__))
        elif job.state == CANCELLED and not job.ran:
            display(Notice("Cancelled before it was sent; nothing was added to the conversation."))

    first_line = prompt.template.strip().split("\n", 1)[0]
    job = jobs.start(
        settings.conversation,
        first_line,
        work,
        # IPython counts the running cell before running it: In[n] runs with n + 1.
        number=shell.execution_count - 1,
        enter=enter,
        ended=ended,
    )
    started.append(job)
    return job


def _cancel_button(shell: Any) -> Any:
    """A Cancel button where widgets render (a kernel with ipywidgets), else None."""
    if getattr(shell, "kernel", None) is None:
        return None
    try:
        import ipywidgets
    except ImportError:
        return None
    return ipywidgets.Button(description="Cancel", icon="stop", tooltip="Cancel this answer")


#: The Jobs whose threads are stopped when the interpreter exits.
_AT_EXIT: list[Jobs] = []


def stop_at_exit(jobs: Jobs) -> None:
    """Cancel and join ``jobs``' threads when the kernel stops or restarts.

    At exit a daemon thread would be killed wherever it is; cancelled, its request in
    flight is ended at once, it records nothing, and the history file keeps its last
    complete save.
    """
    if not _AT_EXIT:
        atexit.register(lambda: [jobs.shutdown() for jobs in _AT_EXIT])
    if jobs not in _AT_EXIT:
        _AT_EXIT.append(jobs)


class _CancelOnInterrupt:
    """The SIGINT handler between cells: cancels the background turns of ``jobs``."""

    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs

    def __call__(self, signum: int, frame: Any) -> None:
        self.jobs.cancel_all()


def watch_interrupts(shell: Any, jobs: Jobs) -> None:
    """Let an interrupt that arrives while no cell runs cancel the background turns.

    ipykernel ignores SIGINT between cells and, around each cell, saves the handler in
    ``saved_sigint_handler`` and puts it back afterwards; ours takes that place, so it
    is the handler between cells and a running cell still gets its KeyboardInterrupt.
    """
    kernel = shell.kernel
    saved = getattr(kernel, "saved_sigint_handler", None)
    if saved is None or (isinstance(saved, _CancelOnInterrupt) and saved.jobs is jobs):
        return
    kernel.saved_sigint_handler = _CancelOnInterrupt(jobs)
