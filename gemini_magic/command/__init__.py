"""The ``%gemini`` line commands: one argparse sub-parser each, and the dispatch.

Each command has its own ``-h``, so ``%gemini reset -h`` says how to use it and a wrong
word is a one-line usage error.  A command gets a :class:`~gemini_magic.command.context.Context`
from the magic: the session, the settings as a value, the shell, and the one setter
through which it changes a setting (``%gemini offline on``, the panel's widgets); it
never gets the Magics object.  The commands live by topic: ``status`` (the settings,
``offline``, ``models``), ``history`` (``reset``, ``history``, ``save``, ``load``),
``export``, ``run`` and ``jobs`` (``wait``, ``jobs``, ``cancel``: background prompts).
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable
from typing import Any, NoReturn

from gemini_magic.command import export, history, jobs, run, status
from gemini_magic.command.context import Configured, Context
from gemini_magic.errors import UsageError
from gemini_magic.state.conversation import DEFAULT_NAME

__all__ = ["Configured", "Context", "run_command"]


class _HelpShown(Exception):
    """``-h`` printed a command's help: nothing else to do."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises our UsageError instead of exiting the kernel."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}.", hint=self.format_usage().strip())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if status:
            raise UsageError(message or f"{self.prog} failed.")
        raise _HelpShown


def _build_parser() -> _Parser:
    parser = _Parser(prog="%gemini", description="Settings and conversation commands.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    def command(name: str, handler: Callable[..., Any], help_text: str) -> _Parser:
        one = sub.add_parser(name, help=help_text, description=help_text)
        one.set_defaults(handler=handler)
        return one

    command("status", status.status, "Show the settings, conversations and token usage.")
    reset_parser = command(
        "reset", history.reset, "Forget a conversation (default: the default one)."
    )
    reset_parser.add_argument("name", nargs="?", default=DEFAULT_NAME)
    reset_parser.add_argument("--all", action="store_true", help="Forget every conversation.")
    command("history", history.history, "Show a conversation.").add_argument(
        "name", nargs="?", default=DEFAULT_NAME
    )
    command("save", history.save, "Save every conversation to a JSON file.").add_argument("file")
    command("load", history.load, "Replace the conversations with a saved file.").add_argument(
        "file"
    )
    command("export", export.export, "Write the conversations as Markdown.").add_argument("file")
    command("offline", status.offline, "Answer from the bundled offline emulator.").add_argument(
        "state", nargs="?", choices=("on", "off")
    )
    command("models", status.models, "List the models the service offers.")
    run.add_arguments(command("run", run.run, run.HELP))
    jobs.add_arguments(command)
    return parser


def run_command(line: str, context: Context) -> Any:
    """Parse ``%gemini LINE`` and run the command it names (``status`` when none)."""
    try:
        words = shlex.split(line)
    except ValueError as exc:  # an unclosed quote
        raise UsageError(f"Cannot read %gemini {line!r}: {exc}.") from None
    try:
        args = _build_parser().parse_args(words or ["status"])
    except _HelpShown:
        return None
    if args.command is None:  # only options, e.g. "%gemini --bogus" was refused above
        raise UsageError("Name a %gemini command.", hint=_build_parser().format_usage())
    return args.handler(context, args)
