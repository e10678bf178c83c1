"""``%gemini wait``, ``%gemini jobs`` and ``%gemini cancel``: the background turns.

``wait`` blocks until background turns finish and raises the first failure (once) as
the very error a foreground prompt would have raised, so a notebook that waits fails
where a prompt failed.  ``jobs`` lists them; ``cancel`` stops them the way an interrupt
does (the interaction cancelled, the turn not recorded).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from gemini_magic.errors import UsageError
from gemini_magic.text import count

if TYPE_CHECKING:
    import argparse

    from gemini_magic.command.context import Context
    from gemini_magic.state.jobs import Job

WAIT_HELP = (
    "Wait for the background prompts (of conversation NAME, or all) to finish; raise the "
    "first that failed."
)
JOBS_HELP = "List the background prompts: running, waiting, done, failed, cancelled."
CANCEL_HELP = (
    "Cancel the background prompt of cell N (default: the latest still running), or all: "
    "the answer stops and is not added to the conversation."
)


def add_arguments(command: Any) -> None:
    """Add the three sub-commands; ``command(name, handler, help)`` makes a sub-parser."""
    waiting = command("wait", wait, WAIT_HELP)
    waiting.add_argument("name", nargs="?", help="a conversation (default: every one)")
    waiting.add_argument("--all", action="store_true", help="every conversation")
    command("jobs", jobs, JOBS_HELP)
    cancelling = command("cancel", cancel, CANCEL_HELP)
    cancelling.add_argument("number", nargs="?", type=int, metavar="N", help="the cell [N]")
    cancelling.add_argument("--all", action="store_true", help="every background prompt")


def wait(context: Context, args: argparse.Namespace) -> None:
    """Block until the chosen turns finished; raise the first failure not raised yet."""
    session = context.session
    if args.name is not None and args.all:
        raise UsageError("Give a conversation or --all, not both.")
    chosen = session.jobs.select(None if args.all else args.name)
    if args.name is not None and not chosen:
        raise UsageError(f"Conversation {args.name!r} has no background prompt.")

    def interrupted(stopped: list[Job]) -> None:
        if stopped:
            print(f"Interrupted: cancelled {_cells(stopped)}.")

    session.jobs.wait(chosen, on_interrupt=interrupted)


class JobList:
    """The background turns as a table (HTML, with a text fallback)."""

    COLUMNS = ("cell", "conversation", "state", "seconds", "prompt")

    def __init__(self, jobs: list[Job]) -> None:
        self.rows = [
            (
                f"[{job.number}]",
                job.conversation,
                job.state + (f" (waits for [{job.after.number}])" if _waits(job) else ""),
                f"{job.seconds():.1f}",
                job.prompt if len(job.prompt) <= 60 else job.prompt[:59] + "…",
            )
            for job in jobs
        ]

    def __repr__(self) -> str:
        if not self.rows:
            return "No background prompts."
        table = [self.COLUMNS, *self.rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(self.COLUMNS))]
        return "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in table
        )

    def _repr_html_(self) -> str:
        if not self.rows:
            return "<p>No background prompts.</p>"
        head = "".join(f"<th style='text-align:left'>{c}</th>" for c in self.COLUMNS)
        body = "".join(
            "<tr>"
            + "".join(f"<td style='text-align:left'>{html.escape(c)}</td>" for c in row)
            + "</tr>"
            for row in self.rows
        )
        return f"<table><tr>{head}</tr>{body}</table>"


def _waits(job: Job) -> bool:
    return job.after is not None and not job.ran and not job.finished


def jobs(context: Context, args: argparse.Namespace) -> JobList:
    return JobList(context.session.jobs.select())


def cancel(context: Context, args: argparse.Namespace) -> None:
    """Cancel one turn (by its cell number, or the latest running) or every one."""
    registry = context.session.jobs
    if args.all:
        stopped = registry.cancel_all()
    else:
        if args.number is None:
            running = registry.running()
            if not running:
                raise UsageError("No background prompt is running.")
            job = running[-1]
        else:
            found = registry.find(args.number)
            if found is None:
                raise UsageError(
                    f"Cell [{args.number}] has no background prompt.",
                    hint="See them with `%gemini jobs`.",
                )
            job = found
        if not job.cancel():
            print(f"The prompt of cell [{job.number}] had already finished ({job.state}).")
            return
        stopped = [job]
    print(f"Cancelled {_cells(stopped)}." if stopped else "No background prompt is running.")


def _cells(stopped: list[Job]) -> str:
    numbers = ", ".join(f"[{job.number}]" for job in stopped)
    return f"{count(len(stopped), 'background prompt')} (cell {numbers})"
