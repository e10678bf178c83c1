"""Points 5 and 6: bytes on the wire and billed prompt tokens over a conversation.

Ten turns over a ~1 MB DataFrame attached in turn 1 and again in turn 10, counted from
the emulator's request log (``bytes_in`` of every request: uploads and prompts), side by
side in one run:

* ``%%gemini`` as shipped (frames above ``upload_threshold`` go through the Files API,
  once per content);
* ``%%gemini`` with uploads off (``upload_threshold`` above the frame): what Vertex AI
  gets, since Vertex AI has no Files API and the magic sends frames inline there;
* the SDK's own chat (``client.chats``), the frame as an inline CSV part.

Then five turns where turn 1's answer carries a ~60 KB PNG: the bytes of turns 2-5 with
the default (images replaced by a short text), with ``resend_media = True``, and with
the SDK's chat.  Replies are scripted text (the image turn runs its code for real), so
the counts are deterministic.  Billed prompt tokens are the emulator's ``usageMetadata``
figures (about 4 characters per token; the file's content counts in every turn, as on
the service).

    python benchmarks/bench_wire.py [--rows N] [--json]
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd
from common import SCATTER_REPLY, Row, emit, say

from gemini_magic.attachments import to_csv_bytes
from gemini_magic.emulator import Emulator

MODEL = "gemini-2.5-flash"
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


def magic_conversation(
    emulator: Emulator, frame: pd.DataFrame, prompts: list[str], settings: dict[str, object]
) -> tuple[list[int], int]:
    """Bytes sent per turn (uploads included) and billed prompt tokens, via %%gemini."""
    from IPython.testing.globalipapp import get_ipython
    from IPython.utils.capture import capture_output

    from gemini_magic.magics import GeminiMagics

    shell = get_ipython()
    magics = GeminiMagics(shell=shell)  # a fresh session (conversation, uploads) per arm
    shell.register_magics(magics)
    settings = {"history_file": "", "max_attachment_bytes": 4_000_000, **settings}
    for name, value in settings.items():
        setattr(magics, name, value)
    shell.user_ns["big"] = frame
    per_turn, tokens = [], 0
    for prompt in prompts:
        before = len(emulator.log)
        with capture_output():
            result = shell.run_cell(f"%%gemini\n{prompt}")
        if not result.success:
            raise RuntimeError(f"{prompt!r} failed: {result.error_in_exec!r}")
        per_turn.append(sum(r.bytes_in for r in emulator.log[before:]))
        tokens += shell.user_ns["_gemini"].usage.prompt_token_count or 0
    magics.close()
    shell.configurables.remove(magics)
    return per_turn, tokens


def sdk_chat(emulator: Emulator, csv: bytes, prompts: list[str]) -> tuple[list[int], int]:
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
    return per_turn, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=34_000, help="rows of the frame (~1 MB)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    frame = make_frame(args.rows)
    csv = to_csv_bytes(frame)
    with Emulator(replies=[PLAIN]) as emulator:
        os.environ["GOOGLE_GEMINI_BASE_URL"] = emulator.url
        os.environ.setdefault("GEMINI_API_KEY", "benchmark-key-not-a-secret")
        os.environ.pop("GOOGLE_GENAI_USE_VERTEXAI", None)
        uploaded, uploaded_tokens = magic_conversation(emulator, frame, PROMPTS, {})
        inline, inline_tokens = magic_conversation(
            emulator, frame, PROMPTS, {"upload_threshold": 10 * len(csv)}
        )
        chat, chat_tokens = sdk_chat(emulator, csv, PROMPTS)

        emulator.set_replies([SCATTER_REPLY, PLAIN])
        images, _ = magic_conversation(emulator, frame, IMAGE_PROMPTS, {})
        resent, _ = magic_conversation(emulator, frame, IMAGE_PROMPTS, {"resend_media": True})
        chat_images, _ = sdk_chat(emulator, csv, IMAGE_PROMPTS)

    size = len(csv)
    total = sum(uploaded)
    say(
        f"frame: {len(frame):,} rows, CSV {size:,} bytes; attached in turns 1 and 10",
        f"bytes per turn, %%gemini:               {uploaded}",
        f"bytes per turn, %%gemini inline/Vertex: {inline}",
        f"bytes per turn, SDK chat:               {chat}",
        f"billed prompt tokens: %%gemini {uploaded_tokens:,}; inline {inline_tokens:,}; "
        f"SDK chat {chat_tokens:,}",
        f"image conversation, bytes per turn: default {images}; resend_media {resent}; "
        f"SDK chat {chat_images}",
    )
    rows = [
        Row(
            "5",
            f"bytes on the wire, 10 turns, a {size / 1e6:.2f} MB frame attached in turns 1 and 10",
            f"{total:,} B = {total / size:.2f}× the CSV (SDK chat: {sum(chat) / size:.1f}×)",
            "≤ 1.2× the CSV",
            total <= 1.2 * size,
            f"CSV {size:,} B, uploaded once through the Files API, referenced after",
        ),
        Row(
            "5",
            "the same on Vertex AI (no Files API: inline, as with uploads off)",
            f"{sum(inline):,} B = {sum(inline) / size:.2f}× the CSV",
            "(none: no Files API)",
            None,
            "the frame is sent inline in turns 1 and 10 and carried by the history between",
        ),
        Row(
            "5",
            "bytes of turns 2-5 after an answer with a PNG",
            f"{sum(images[1:]):,} B (resend_media: {sum(resent[1:]):,} B; "
            f"SDK chat: {sum(chat_images[1:]):,} B)",
            "images not re-sent",
            sum(images[1:]) < sum(resent[1:]) and sum(images[1:]) < sum(chat_images[1:]),
        ),
        Row(
            "6",
            "billed prompt tokens, the 10 turns (emulator usage figures)",
            f"{uploaded_tokens:,} (inline: {inline_tokens:,}; SDK chat: {chat_tokens:,})",
            "lower with context caching",
            None,
            "context caching is NOT implemented: the frame's tokens are billed every turn; "
            "the emulator has no cachedContents and reports no cachedContentTokenCount",
        ),
    ]
    emit(rows, args.json)


if __name__ == "__main__":
    main()
