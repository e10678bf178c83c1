"""``%gemini export FILE.md``: the conversations as Markdown, for people to read.

Each answer is written as the answer object writes itself (text as is, code and its
output fenced, images as short notes); ``%gemini history`` shows one conversation the
same way.  The Markdown is composed here, so the conversation store holds the turns and
knows nothing of how an answer reads.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from gemini_magic.answer.response import answer_markdown
from gemini_magic.command.context import Context
from gemini_magic.state.conversation import DEFAULT_NAME, Conversation, ConversationStore


def export(context: Context, args: argparse.Namespace) -> None:
    store = context.session.store
    target = Path(args.file).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(markdown(store), encoding="utf-8")
    print(f"Exported {described(store)} to {target}.")


def markdown(conversations: Iterable[Conversation]) -> str:
    """The conversations as Markdown (an empty one only if it is the default one)."""
    lines: list[str] = []
    for conv in conversations:
        if not conv.exchanges and conv.name != DEFAULT_NAME:
            continue
        lines.append(f"# Conversation: {conv.name}\n")
        if not conv.exchanges:
            lines.append("_(empty)_\n")
        for number, exchange in enumerate(conv.exchanges, start=1):
            lines.append(f"## {number}. You\n")
            lines.append(exchange.prompt.strip() + "\n")
            model = f" ({exchange.model_name})" if exchange.model_name else ""
            lines.append(f"## {number}. Gemini{model}\n")
            lines.append(answer_markdown(exchange.model.parts or []) + "\n")
    return "\n".join(lines)


def described(store: ConversationStore) -> str:
    """``3 turn(s) in 2 conversation(s)``: what a save, load or export moved."""
    turns = sum(len(c.exchanges) for c in store)
    conversations = sum(1 for c in store if c.exchanges) or 1
    return f"{turns} turn(s) in {conversations} conversation(s)"
