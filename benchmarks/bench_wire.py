"""Points 5 and 6: bytes on the wire and billed prompt tokens over a conversation.

All of it on the generate_content API (``api = "generate_content"`` set explicitly: the
default is now Interactions, where the service keeps the history and context caching
does not apply); ``bench_interactions_wire.py`` measures the Interactions API.

Ten turns over a ~1 MB DataFrame attached in turn 1 and again in turn 10, counted from
the emulator's request log (``bytes_in`` of every request: uploads, cache creation and
prompts), side by side in one run:

* ``%%gemini`` as shipped (frames above ``upload_threshold`` go through the Files API,
  once per content; the history is held by an explicit context cache from turn 2 on);
* the same with ``context_cache = False``;
* ``%%gemini`` with uploads off (``upload_threshold`` above the frame): what Vertex AI
  gets, since Vertex AI has no Files API and the magic sends frames inline there; with
  context caching on and off;
* the SDK's own chat (``client.chats``), the frame as an inline CSV part.

Point 6 compares the prompt tokens with context caching on and off: the total, the part
served from the cache (``cachedContentTokenCount``, billed at a reduced rate on the
service) and the part billed at the full input rate.

Then five turns where turn 1's answer carries a ~60 KB PNG: the bytes of turns 2-5 with
the default (images replaced by a short text), with ``resend_media = True``, and with
the SDK's chat.  Replies are scripted text (the image turn runs its code for real), so
the counts are deterministic.  Billed prompt tokens are the emulator's ``usageMetadata``
figures: approximate (about 4 characters per token, no real tokenizer) but
deterministic, and counted the same way with and without a cache, so the comparison
holds even though the absolute numbers are not the service's.  The file's content
counts in every turn, as on the service.  Cache storage (billed per token-hour on the
service) is not in these figures.

    python benchmarks/bench_wire.py [--rows N] [--json]
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from common import SCATTER_REPLY, Row, emit, say

from gemini_magic.emulator import Emulator
from gemini_magic.inputs.frames import to_csv_bytes

MODEL = "gemini-3.8-flash"
PLAIN = {"match": ".", "parts": [{"text": "Noted: here is a short answer about the data."}]}

PROMPTS = (
    ["Summarise {big}."]
    + [f"Question {n}: what stands out in the data?" for n in range(2, 10)]
    + ["Look at {big} once more."]
)
IMAGE_PROMPTS = ["Draw a scatter of seeded noise."] + [
    f"Follow-up {n} on the plot." for n in range(2, 6)
]


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "x": rng.normal(size=rows).round(6),
            "y": rng.integers(0, 1_000_000, rows),
            "label": [f"item-{i:07d}" for i in range(rows)],
        }
    )


@dataclass
class Arm:
    """What one conversation cost: bytes per turn and prompt tokens."""

    per_turn: list[int]
    prompt_tokens: int
    cached_tokens: int = 0
    cache_turns: list[int] = field(default_factory=list)
    """The turns (1-based) in which a context cache was made."""

    @property
    def caches_made(self) -> int:
        return len(self.cache_turns)

    @property
    def full_rate(self) -> int:
        """Prompt tokens not served from a cache: billed at the full input rate."""
        return self.prompt_tokens - self.cached_tokens


def magic_conversation(
    emulator: Emulator, frame: pd.DataFrame, prompts: list[str], settings: dict[str, object]
) -> Arm:
    """Bytes sent per turn (uploads and caches included) and prompt tokens, via %%gemini."""
    from IPython.testing.globalipapp import get_ipython
    from IPython.utils.capture import capture_output

    from gemini_magic.magics import GeminiMagics

    shell = get_ipython()
    magics = GeminiMagics(shell=shell)  # a fresh session (conversation, uploads) per arm
    shell.register_magics(magics)
    settings = {
        "history_file": "",
        "max_attachment_bytes": 4_000_000,
        "api": "generate_content",
        **settings,
    }
    for name, value in settings.items():
        setattr(magics, name, value)
    shell.user_ns["big"] = frame
    arm = Arm([], 0)
    for prompt in prompts:
        before = len(emulator.log)
        with capture_output():
            result = shell.run_cell(f"%%gemini\n{prompt}")
        if not result.success:
            raise RuntimeError(f"{prompt!r} failed: {result.error_in_exec!r}")
        requests = emulator.log[before:]
        arm.per_turn.append(sum(r.bytes_in for r in requests))
        if any(
            r.method == "POST" and r.path.endswith("/cachedContents") and r.status == 200
            for r in requests
        ):
            arm.cache_turns.append(len(arm.per_turn))
        usage = shell.user_ns["_gemini"].usage
        arm.prompt_tokens += usage.prompt_token_count or 0
        arm.cached_tokens += usage.cached_content_token_count or 0
    magics.close()  # deletes its caches
    return arm


def sdk_chat(emulator: Emulator, csv: bytes, prompts: list[str]) -> Arm:
    """The same conversation through the SDK's streaming chat, the CSV inline."""
    from google import genai
    from google.genai import types

    client = genai.Client()
    chat = client.chats.create(
        model=MODEL,
        config=types.GenerateContentConfig(
            tools=[types.Tool(code_execution=types.ToolCodeExecution())]
        ),
    )
    per_turn, tokens = [], 0
    for prompt in prompts:
        message: list[types.Part | str] = [prompt.replace("{big}", "big.csv")]
        if "{big}" in prompt:
            message.insert(0, types.Part.from_bytes(data=csv, mime_type="text/csv"))
        before = len(emulator.log)
        usage = None
        for chunk in chat.send_message_stream(message):
            usage = chunk.usage_metadata or usage
        per_turn.append(sum(r.bytes_in for r in emulator.log[before:]))
        tokens += (usage.prompt_token_count or 0) if usage else 0
    client.close()
    return Arm(per_turn, tokens)


def wire_scenario(description: str) -> tuple[argparse.Namespace, pd.DataFrame, bytes]:
    """The options both wire benchmarks take (``--rows``, ``--json``), the frame, its CSV."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rows", type=int, default=34_000, help="rows of the frame (~1 MB)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    frame = make_frame(args.rows)
    return args, frame, to_csv_bytes(frame)


def point_sdk_at(emulator: Emulator) -> None:
    """Send this process's SDK clients to ``emulator`` (the Gemini Developer API)."""
    os.environ["GOOGLE_GEMINI_BASE_URL"] = emulator.url
    os.environ["GEMINI_API_KEY"] = emulator.key  # it answers only its own key
    os.environ.pop("GOOGLE_API_KEY", None)  # which would win over GEMINI_API_KEY
    os.environ.pop("GOOGLE_GENAI_USE_VERTEXAI", None)


def main() -> None:
    args, frame, csv = wire_scenario(__doc__.splitlines()[0])
    with Emulator(replies=[PLAIN]) as emulator:
        point_sdk_at(emulator)
        no_cache = {"context_cache": False}
        inline_only = {"upload_threshold": 10 * len(csv)}
        shipped = magic_conversation(emulator, frame, PROMPTS, {})
        uncached = magic_conversation(emulator, frame, PROMPTS, no_cache)
        inline = magic_conversation(emulator, frame, PROMPTS, inline_only)
        inline_uncached = magic_conversation(emulator, frame, PROMPTS, {**inline_only, **no_cache})
        chat = sdk_chat(emulator, csv, PROMPTS)

        emulator.set_replies([SCATTER_REPLY, PLAIN])
        images = magic_conversation(emulator, frame, IMAGE_PROMPTS, {}).per_turn
        resent = magic_conversation(emulator, frame, IMAGE_PROMPTS, {"resend_media": True}).per_turn
        chat_images = sdk_chat(emulator, csv, IMAGE_PROMPTS).per_turn

    size = len(csv)
    total = sum(shipped.per_turn)

    def tokens(arm: Arm) -> str:
        return (
            f"prompt {arm.prompt_tokens:,}, cached {arm.cached_tokens:,} "
            f"({arm.cached_tokens / arm.prompt_tokens:.0%}), full rate {arm.full_rate:,}, "
            f"caches made {arm.caches_made}"
        )

    say(
        f"frame: {len(frame):,} rows, CSV {size:,} bytes; attached in turns 1 and 10",
        f"bytes per turn, %%gemini:                        {shipped.per_turn}",
        f"bytes per turn, %%gemini, caching off:           {uncached.per_turn}",
        f"bytes per turn, %%gemini inline/Vertex:          {inline.per_turn}",
        f"bytes per turn, %%gemini inline/Vertex, no cache: {inline_uncached.per_turn}",
        f"bytes per turn, SDK chat:                        {chat.per_turn}",
        f"prompt tokens, %%gemini:                {tokens(shipped)}",
        f"prompt tokens, %%gemini, caching off:   {tokens(uncached)}",
        f"prompt tokens, inline/Vertex:           {tokens(inline)}",
        f"prompt tokens, inline/Vertex, no cache: {tokens(inline_uncached)}",
        f"prompt tokens, SDK chat:                {tokens(chat)}",
        "tokens: the emulator's approximate counter (about 4 characters a token), the same "
        "with and without a cache; cache storage (per token-hour) not included",
        f"image conversation, bytes per turn: default {images}; resend_media {resent}; "
        f"SDK chat {chat_images}",
    )
    rows = [
        Row(
            "5",
            f"bytes on the wire, 10 turns, a {size / 1e6:.2f} MB frame attached in turns 1 and "
            "10, on generate_content",
            f"{total:,} B = {total / size:.2f}× the CSV (caching off: "
            f"{sum(uncached.per_turn) / size:.2f}×; SDK chat: {sum(chat.per_turn) / size:.1f}×)",
            "≤ 1.2× the CSV",
            total <= 1.2 * size,
            f"CSV {size:,} B, uploaded once through the Files API, referenced after; "
            "context caching on (the default)",
        ),
        Row(
            "5",
            "the same on Vertex AI (no Files API: inline, as with uploads off)",
            f"{sum(inline.per_turn):,} B = {sum(inline.per_turn) / size:.2f}× the CSV "
            f"(caching off: {sum(inline_uncached.per_turn) / size:.2f}×)",
            "(none: no Files API)",
            None,
            "inline in turn 1, then once more in the cache it creates at turn 2, and inline "
            "again in turn 10; with caching off the history carries it in every turn",
        ),
        Row(
            "5",
            "bytes of turns 2-5 after an answer with a PNG, on generate_content",
            f"{sum(images[1:]):,} B (resend_media: {sum(resent[1:]):,} B; "
            f"SDK chat: {sum(chat_images[1:]):,} B)",
            "images not re-sent",
            sum(images[1:]) < sum(resent[1:]) and sum(images[1:]) < sum(chat_images[1:]),
        ),
        Row(
            "6",
            "prompt tokens of the 10 turns billed at the full input rate, context caching on "
            "vs off, on generate_content (emulator usage figures: promptTokenCount − "
            "cachedContentTokenCount)",
            f"{shipped.full_rate:,} vs {uncached.full_rate:,} "
            f"({shipped.full_rate / uncached.full_rate:.2f}×)",
            "lower with context caching",
            shipped.full_rate < uncached.full_rate,
            f"caches made in turn(s) {shipped.cache_turns or 'none'} and named by every later "
            "turn; the frame's tokens are billed at the full rate in turns 1 and 10, where it is "
            "attached (the cache holds only the history before a turn)",
        ),
        Row(
            "6",
            "cached share of the prompt tokens, context caching on (billed at the reduced "
            "cached rate on the service)",
            f"{shipped.cached_tokens:,} of {shipped.prompt_tokens:,} "
            f"({shipped.cached_tokens / shipped.prompt_tokens:.0%}); caching off: 0 of "
            f"{uncached.prompt_tokens:,}",
            "(none: explains the row above)",
            None,
            "tokens are the emulator's approximate counter (~4 characters a token), identical "
            "with and without the cache; storage (per token-hour) not included",
        ),
        Row(
            "6",
            "the same on Vertex AI (inline; caching works there too)",
            f"full rate {inline.full_rate:,} vs {inline_uncached.full_rate:,} "
            f"({inline.full_rate / inline_uncached.full_rate:.2f}×); cached "
            f"{inline.cached_tokens / inline.prompt_tokens:.0%}",
            "lower with context caching",
            inline.full_rate < inline_uncached.full_rate,
        ),
    ]
    emit(rows, args.json)


if __name__ == "__main__":
    main()
