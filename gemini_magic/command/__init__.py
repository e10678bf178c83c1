"""The ``%gemini`` line commands: settings at a glance and conversation housekeeping.

Each command is an argparse sub-parser with its own ``-h``, so ``%gemini reset -h``
says how to use it and a wrong word is a one-line usage error.  A command gets the
session and the configurable that holds the traits (to read the settings, or to switch
``offline``); it never needs the Magics class itself.
"""

from __future__ import annotations

import argparse
import html
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from gemini_magic.api.errors import service_call
from gemini_magic.command import jobs as background_jobs
from gemini_magic.command import run as run_answer
from gemini_magic.errors import UsageError
from gemini_magic.state.conversation import DEFAULT_NAME, ConversationStore
from gemini_magic.text import count

if TYPE_CHECKING:
    from traitlets import HasTraits

    from gemini_magic.session import GeminiSession

#: The traits ``%gemini`` shows.
SETTINGS = (
    "model",
    "api",
    "store",
    "thinking_level",
    "temperature",
    "system_instruction",
    "stream",
    "offline",
    "timeout",
    "max_retries",
    "max_attachment_bytes",
    "upload_threshold",
    "context_cache",
    "history_file",
)


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

    def command(name: str, handler: Any, help_text: str) -> _Parser:
        one = sub.add_parser(name, help=help_text, description=help_text)
        one.set_defaults(handler=handler)
        return one

    command("status", status, "Show the settings, conversations and token usage.")
    reset_parser = command("reset", reset, "Forget a conversation (default: the default one).")
    reset_parser.add_argument("name", nargs="?", default=DEFAULT_NAME)
    reset_parser.add_argument("--all", action="store_true", help="Forget every conversation.")
    command("history", history, "Show a conversation.").add_argument(
        "name", nargs="?", default=DEFAULT_NAME
    )
    command("save", save, "Save every conversation to a JSON file.").add_argument("file")
    command("load", load, "Replace the conversations with a saved file.").add_argument("file")
    command("export", export, "Write the conversations as Markdown.").add_argument("file")
    command("offline", offline, "Answer from the bundled offline emulator.").add_argument(
        "state", nargs="?", choices=("on", "off")
    )
    command("models", models, "List the models the service offers.")
    run_answer.add_arguments(command("run", run_answer.run, run_answer.HELP))
    background_jobs.add_arguments(command)
    return parser


def run_command(line: str, session: GeminiSession, configurable: HasTraits) -> Any:
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
    return args.handler(session, configurable, args)


class Status:
    """``%gemini`` with no arguments: model, options, conversations, token usage."""

    def __init__(self, settings: dict[str, Any], session: GeminiSession) -> None:
        self.settings = settings
        self.conversations = {c.name: len(c.exchanges) for c in session.store}
        self.usage = dict(session.usage_totals)
        self.history_path = session.history.path
        self.emulator_url = session.emulator.url if session.emulator else None

    def _rows(self) -> list[tuple[str, str]]:
        rows = [(name, repr(value)) for name, value in self.settings.items()]
        convs = ", ".join(f"{name} ({count(n, 'turn')})" for name, n in self.conversations.items())
        rows.append(("conversations", convs))
        used = self.usage
        rows.append(
            (
                "tokens so far",
                f"{used.get('prompt_token_count', 0):,} in, "
                f"{used.get('candidates_token_count', 0):,} out, "
                f"{used.get('total_token_count', 0):,} total",
            )
        )
        rows.append(("saved to", str(self.history_path) if self.history_path else "not saved"))
        if self.emulator_url:
            rows.append(("offline emulator", self.emulator_url))
        return rows

    def __repr__(self) -> str:
        rows = self._rows()
        width = max(len(k) for k, _ in rows)
        return "gemini-magic settings\n" + "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'><code>{html.escape(v)}</code></td></tr>"
            for k, v in self._rows()
        )
        return f"<b>gemini-magic settings</b><table>{body}</table>"


def status(session: GeminiSession, configurable: HasTraits, args: argparse.Namespace) -> Status:
    """The settings panel: a widget panel where widgets render, plain text everywhere."""
    from gemini_magic.api.client import api_in_use
    from gemini_magic.command.panel import show_panel

    show_panel(configurable, session)
    settings = {name: getattr(configurable, name) for name in SETTINGS}
    in_use = api_in_use(settings["api"], offline=session.connection.offline)
    if in_use != settings["api"]:
        settings["api"] = f"{settings['api']} (in use: {in_use}: Vertex AI express mode)"
    return Status(settings, session)


def reset(session: GeminiSession, configurable: HasTraits, args: argparse.Namespace) -> None:
    if args.all:
        session.store.reset(None)
        print("All conversations were reset.")
    else:
        session.store.reset(args.name)
        print(f"Conversation {args.name!r} was reset.")
    session.autosave()


class History:
    """A readable view of one conversation (Markdown, with a text fallback)."""

    def __init__(self, store: ConversationStore, name: str) -> None:
        single = ConversationStore()
        single.conversations = {name: store.conversations[name]}
        self.markdown = single.to_markdown()

    def __repr__(self) -> str:
        return self.markdown

    def _repr_markdown_(self) -> str:
        from gemini_magic.display.markdown import safe_markdown

        return safe_markdown(self.markdown)


def history(session: GeminiSession, configurable: HasTraits, args: argparse.Namespace) -> History:
    store = session.store
    if args.name not in store.conversations:
        raise UsageError(
            f"There is no conversation named {args.name!r}.",
            hint=f"Conversations: {', '.join(sorted(store.conversations))}.",
        )
    return History(store, args.name)


def save(session: GeminiSession, configurable: HasTraits, args: argparse.Namespace) -> None:
    path = session.store.save(Path(args.file).expanduser())
    print(f"Saved {_turns(session.store)} to {path}.")


def load(session: GeminiSession, configurable: HasTraits, args: argparse.Namespace) -> None:
    store = ConversationStore.load(Path(args.file).expanduser())
    session.replace_store(store)
    print(f"Loaded {_turns(store)} from {args.file}.")


def export(session: GeminiSession, configurable: HasTraits, args: argparse.Namespace) -> None:
    path = session.store.export_markdown(Path(args.file).expanduser())
    print(f"Exported {_turns(session.store)} to {path}.")


def offline(session: GeminiSession, configurable: HasTraits, args: argparse.Namespace) -> None:
    if args.state == "on":
        configurable.offline = True  # type: ignore[attr-defined]
        url = session.start_emulator()
        print(f"Offline: answers now come from the bundled emulator at {url}.")
    elif args.state == "off":
        configurable.offline = False  # type: ignore[attr-defined]
        print("Online: answers come from the Gemini service.")
    else:
        print("Offline mode is", "on." if configurable.offline else "off.")  # type: ignore[attr-defined]


def models(session: GeminiSession, configurable: HasTraits, args: argparse.Namespace) -> list[str]:
    """The models the service offers for ``generateContent``, previews and deprecated
    ones marked."""
    from gemini_magic.models import listing

    with service_call(session.connection.timeout_s):
        names = sorted(
            (m.name or "").removeprefix("models/")
            for m in session.client().models.list()
            if not m.supported_actions or "generateContent" in m.supported_actions
        )
    return listing(names)


def _turns(store: ConversationStore) -> str:
    turns = sum(len(c.exchanges) for c in store)
    conversations = sum(1 for c in store if c.exchanges) or 1
    return f"{turns} turn(s) in {conversations} conversation(s)"
