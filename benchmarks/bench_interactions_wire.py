"""Issue 11 point 13b and 13c: request bytes per turn on the Interactions API.

One scenario, ten turns, a ~1 MB DataFrame attached in turn 1 only (turns 2-10 are
questions of equal length with no new attachment), counted from the emulator's request
log (``bytes_in`` of every request of a turn: uploads and prompts), side by side in
one run:

* ``%%gemini`` on Interactions as shipped (the default API, ``store`` on, the frame's
  CSV above ``upload_threshold`` so uploaded once through the Files API and named by
  its ``uri``): each later turn sends only its prompt and ``previous_interaction_id``;
* the same with uploads off (``upload_threshold`` above the frame: the CSV inline, as
  base64, in turn 1);
* ``%%gemini`` on generate_content as shipped (Files API, context caching) and with
  context caching off: every turn re-sends the conversation, so its requests grow.

13b: turn 10's request on Interactions is at most 2 kB and does not grow with the turn
number (turns 2-10 within a few bytes of each other).  13c: the whole 10-turn scenario
on Interactions costs at most 1.01× the CSV on the wire.

    python benchmarks/bench_interactions_wire.py [--rows N] [--json]
"""

from __future__ import annotations

from bench_wire import PLAIN, magic_conversation, point_sdk_at, wire_scenario
from common import Row, emit, say

from gemini_magic.emulator import Emulator

#: Turn 1 attaches the frame; turns 2-10 are the same length, so bytes compare.
PROMPTS = ["Summarise {big}."] + [
    f"Question {n:02d}: what stands out in the data?" for n in range(2, 11)
]
#: How much turns 2-10 may differ on Interactions and still count as constant (ids and
#: numbers in the request may differ by a digit or two; the history would add hundreds).
CONSTANT_SLACK = 16


def main() -> None:
    args, frame, csv = wire_scenario(__doc__.splitlines()[0])
    with Emulator(replies=[PLAIN]) as emulator:
        point_sdk_at(emulator)
        interactions = {"api": "interactions"}
        shipped = magic_conversation(emulator, frame, PROMPTS, interactions)
        creates = [r for r in emulator.log if r.path.endswith("/interactions")]
        uploads = [r for r in emulator.log if "upload" in r.path]
        inline = magic_conversation(
            emulator, frame, PROMPTS, {**interactions, "upload_threshold": 10 * len(csv)}
        )
        classic = magic_conversation(emulator, frame, PROMPTS, {"api": "generate_content"})
        classic_uncached = magic_conversation(
            emulator, frame, PROMPTS, {"api": "generate_content", "context_cache": False}
        )

    size = len(csv)
    total = sum(shipped.per_turn)
    later = shipped.per_turn[1:]
    tenth = shipped.per_turn[9]
    constant = max(later) - min(later) <= CONSTANT_SLACK
    say(
        f"frame: {len(frame):,} rows, CSV {size:,} bytes; attached in turn 1 only",
        f"Interactions requests in the shipped arm: {len(creates)} to "
        f"{sorted({r.path for r in creates})}; uploads: {len(uploads)} "
        f"({sum(r.bytes_in for r in uploads):,} B)",
        f"bytes per turn, Interactions (Files API):       {shipped.per_turn}",
        f"bytes per turn, Interactions (inline):          {inline.per_turn}",
        f"bytes per turn, generate_content (caching on):  {classic.per_turn}",
        f"bytes per turn, generate_content (caching off): {classic_uncached.per_turn}",
        f"turns 2-10 on Interactions: min {min(later):,} B, max {max(later):,} B",
    )
    rows = [
        Row(
            "11.13",
            "request bytes of turn 10 (no new attachment) on Interactions, against turns 2-9; "
            "generate_content turns 1..10 beside it",
            f"{tenth:,} B (turns 2-10: {min(later):,}-{max(later):,} B); generate_content "
            f"turns 2..10: {classic.per_turn[1:]} (caching off: "
            f"{classic_uncached.per_turn[1:]})",
            f"≤ 2 kB, constant in the turn number (±{CONSTANT_SLACK} B)",
            tenth <= 2000 and constant,
            f"generate_content turn 1 (with the frame): {classic.per_turn[0]:,} B; "
            "it re-sends the conversation each turn (from its context cache's end when on)",
        ),
        Row(
            "11.13",
            f"total wire bytes, 10 turns on Interactions, a {size / 1e6:.2f} MB frame "
            "attached in turn 1 only (the default: Files API above upload_threshold)",
            f"{total:,} B = {total / size:.3f}× the CSV (inline instead: "
            f"{sum(inline.per_turn) / size:.3f}×; generate_content: "
            f"{sum(classic.per_turn) / size:.3f}×, caching off "
            f"{sum(classic_uncached.per_turn) / size:.3f}×)",
            "≤ 1.01× the CSV",
            total <= 1.01 * size,
            f"CSV {size:,} B uploaded once ({len(uploads)} upload request(s)) and named by "
            "uri in turn 1; turns 2-10 send only the prompt and previous_interaction_id",
        ),
    ]
    emit(rows, args.json)


if __name__ == "__main__":
    main()
