"""``%gemini reset``, ``history``, ``save`` and ``load``: conversation housekeeping.

The conversations live in the session's store; these commands forget one, show one, or
write all of them to a JSON file and read them back (the same format as the history
file saved beside the notebook after every turn).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gemini_magic.command.context import Context
from gemini_magic.command.export import described, markdown
from gemini_magic.display.markdown import safe_markdown
from gemini_magic.errors import UsageError
from gemini_magic.state.conversation import ConversationStore


def reset(context: Context, args: argparse.Namespace) -> None:
    session = context.session
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
        self.markdown = markdown([store.conversations[name]])

    def __repr__(self) -> str:
        return self.markdown

    def _repr_markdown_(self) -> str:
        return safe_markdown(self.markdown)


def history(context: Context, args: argparse.Namespace) -> History:
    store = context.session.store
    if args.name not in store.conversations:
        raise UsageError(
            f"There is no conversation named {args.name!r}.",
            hint=f"Conversations: {', '.join(sorted(store.conversations))}.",
        )
    return History(store, args.name)


def save(context: Context, args: argparse.Namespace) -> None:
    store = context.session.store
    path = store.save(Path(args.file).expanduser())
    print(f"Saved {described(store)} to {path}.")


def load(context: Context, args: argparse.Namespace) -> None:
    store = ConversationStore.load(Path(args.file).expanduser())
    context.session.replace_store(store)
    print(f"Loaded {described(store)} from {args.file}.")
