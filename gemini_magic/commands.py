"""The ``%gemini`` line commands: settings at a glance and conversation housekeeping."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from gemini_magic.conversation import DEFAULT_NAME, ConversationStore
from gemini_magic.errors import UsageError

if TYPE_CHECKING:
    from gemini_magic.magics import GeminiMagics

_SETTINGS = (
    "model",
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


class Status:
    """``%gemini`` with no arguments: model, options, conversations, token usage."""

    def __init__(self, magics: GeminiMagics) -> None:
        session = magics.session
        self.settings = {name: getattr(magics, name) for name in _SETTINGS}
        self.conversations = {c.name: len(c.exchanges) for c in session.store}
        self.usage = dict(session.usage_totals)
        self.history_path = session.history_path
        self.emulator_url = session.emulator.url if session.emulator else None

    def _rows(self) -> list[tuple[str, str]]:
        rows = [(name, repr(value)) for name, value in self.settings.items()]
        convs = ", ".join(
            f"{name} ({n} turn{'' if n == 1 else 's'})" for name, n in self.conversations.items()
        )
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


def status(magics: GeminiMagics) -> Status:
    """The settings panel: a widget panel where widgets render, plain text everywhere."""
    from gemini_magic.panel import show_panel

    show_panel(magics)
    return Status(magics)


def reset(magics: GeminiMagics, args: list[str]) -> None:
    store = magics.session.store
    if args == ["--all"]:
        store.reset(None)
        print("All conversations were reset.")
    elif len(args) <= 1:
        name = args[0] if args else DEFAULT_NAME
        store.reset(name)
        print(f"Conversation {name!r} was reset.")
    else:
        raise UsageError("Usage: %gemini reset [NAME | --all]")
    magics.session.autosave()


class History:
    """A readable view of one conversation (Markdown, with a text fallback)."""

    def __init__(self, store: ConversationStore, name: str) -> None:
        conversation = store.get(name)
        single = ConversationStore()
        single.conversations = {name: conversation}
        self.markdown = single.to_markdown()

    def __repr__(self) -> str:
        return self.markdown

    def _repr_markdown_(self) -> str:
        from gemini_magic.markdown import safe_markdown

        return safe_markdown(self.markdown)


def history(magics: GeminiMagics, args: list[str]) -> History:
    if len(args) > 1:
        raise UsageError("Usage: %gemini history [NAME]")
    name = args[0] if args else DEFAULT_NAME
    store = magics.session.store
    if name not in store.conversations:
        raise UsageError(
            f"There is no conversation named {name!r}.",
            hint=f"Conversations: {', '.join(sorted(store.conversations))}.",
        )
    return History(store, name)


def _one_path(args: list[str], usage: str) -> Path:
    if len(args) != 1:
        raise UsageError(f"Usage: %gemini {usage}")
    return Path(args[0]).expanduser()


def save(magics: GeminiMagics, args: list[str]) -> None:
    path = magics.session.store.save(_one_path(args, "save FILE.json"))
    print(f"Saved {_turns(magics.session.store)} to {path}.")


def load(magics: GeminiMagics, args: list[str]) -> None:
    store = ConversationStore.load(_one_path(args, "load FILE.json"))
    magics.session.store = store
    magics.session.autosave()
    print(f"Loaded {_turns(store)} from {args[0]}.")


def export(magics: GeminiMagics, args: list[str]) -> None:
    path = magics.session.store.export_markdown(_one_path(args, "export FILE.md"))
    print(f"Exported {_turns(magics.session.store)} to {path}.")


def offline(magics: GeminiMagics, args: list[str]) -> None:
    if args == ["on"]:
        magics.offline = True
        url = magics.session.start_emulator()
        print(f"Offline: answers now come from the bundled emulator at {url}.")
    elif args == ["off"]:
        magics.offline = False
        print("Online: answers come from the Gemini service.")
    elif not args:
        print("Offline mode is", "on." if magics.offline else "off.")
    else:
        raise UsageError("Usage: %gemini offline [on | off]")


def models(magics: GeminiMagics, args: list[str]) -> list[str]:
    """The names of the models the service offers for ``generateContent``."""
    if args:
        raise UsageError("Usage: %gemini models")
    from gemini_magic.request import map_error

    try:
        return sorted(
            (m.name or "").removeprefix("models/")
            for m in magics.session.client().models.list()
            if not m.supported_actions or "generateContent" in m.supported_actions
        )
    except Exception as exc:
        raise map_error(exc, timeout_s=magics.timeout) from None


def _turns(store: ConversationStore) -> str:
    turns = sum(len(c.exchanges) for c in store)
    count = sum(1 for c in store if c.exchanges) or 1
    return f"{turns} turn(s) in {count} conversation(s)"
