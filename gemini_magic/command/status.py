"""``%gemini``, ``%gemini offline`` and ``%gemini models``: the settings at a glance.

``%gemini`` (``status``) shows the settings, the conversations and the tokens used, as
a widget panel where widgets render and as a table everywhere; ``offline`` switches
answers to the bundled emulator and back; ``models`` lists what the service offers.
"""

from __future__ import annotations

import argparse
import html
from typing import Any

from gemini_magic.api.client import api_in_use
from gemini_magic.api.errors import service_call
from gemini_magic.command.context import Context
from gemini_magic.command.panel import show_panel
from gemini_magic.models import listing
from gemini_magic.session import GeminiSession
from gemini_magic.text import count

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


class Status:
    """``%gemini`` with no arguments: model, options, conversations, token usage."""

    def __init__(self, settings: dict[str, Any], session: GeminiSession) -> None:
        self.settings = settings
        self.conversations = {c.name: len(c.exchanges) for c in session.store}
        self.usage = dict(session.usage_totals)
        self.history_path = session.history.path
        self.emulator_url = session.emulator.url if session.emulator else None
        self.warmup_failure = session.warmup_failure

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
        if self.warmup_failure:
            rows.append(("warm-up", f"failed: {self.warmup_failure}"))
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


def status(context: Context, args: argparse.Namespace) -> Status:
    """The settings panel: a widget panel where widgets render, plain text everywhere."""
    session = context.session
    show_panel(context)
    settings = {name: getattr(context.settings, name) for name in SETTINGS}
    in_use = api_in_use(settings["api"], offline=session.connection.offline)
    if in_use != settings["api"]:
        settings["api"] = f"{settings['api']} (in use: {in_use}: Vertex AI express mode)"
    return Status(settings, session)


def offline(context: Context, args: argparse.Namespace) -> None:
    if args.state == "on":
        context.set_option("offline", True)
        url = context.session.start_emulator()
        print(f"Offline: answers now come from the bundled emulator at {url}.")
    elif args.state == "off":
        context.set_option("offline", False)
        print("Online: answers come from the Gemini service.")
    else:
        print("Offline mode is", "on." if context.settings.offline else "off.")


def models(context: Context, args: argparse.Namespace) -> list[str]:
    """The models the service offers for ``generateContent``, previews and deprecated
    ones marked."""
    session = context.session
    with service_call(session.connection.timeout_s):
        names = sorted(
            (m.name or "").removeprefix("models/")
            for m in session.client().models.list()
            if not m.supported_actions or "generateContent" in m.supported_actions
        )
    return listing(names)
