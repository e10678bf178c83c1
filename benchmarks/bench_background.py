"""Issue 18 point 1: background prompts, in a real kernel.

Two figures, side by side in one run on the chosen API: how long a ``%%gemini
--background`` cell takes to return (against the same prompt in the foreground), and
how long a foreground cell of plain Python takes while a background answer streams
into another cell (against the same cell alone).  The answer is bench_long.py's 23 kB
report in 980 deltas, 5 ms apart, from the emulator in its own process.

    python benchmarks/bench_background.py [--api interactions|generate_content] [--pairs N] [--json]
"""

from __future__ import annotations

import argparse
import statistics

from bench_long import DELTAS, PROMPT, Kernel, long_answer, replies
from common import Row, emit, median_ratio, ms, paired, say
from emulator_process import EmulatorProcess

#: The foreground cell: a few hundred milliseconds of pure Python.
WORK = "_bench_total = sum(i * i for i in range(1_500_000))"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--api", choices=("interactions", "generate_content"), default="interactions"
    )
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with EmulatorProcess(replies(long_answer(), DELTAS), delay=0.005) as emulator:
        kernel = Kernel(emulator, args.api)
        try:
            kernel.run(f"%%gemini\n{PROMPT}")  # first prompt: the SDK and client warm
            returns: list[float] = []

            def background() -> float:
                seconds = kernel.run(f"%%gemini --background --new\n{PROMPT}")["seconds"]
                returns.append(seconds)
                work = kernel.run(WORK)["seconds"]  # while the answer streams
                kernel.run("%gemini wait")
                return work

            def alone() -> float:
                return kernel.run(WORK)["seconds"]

            during, by_itself = paired(background, alone, args.pairs)
            foreground = [
                kernel.run(f"%%gemini --new\n{PROMPT}")["seconds"] for _ in range(args.pairs)
            ]
        finally:
            kernel.close()
    ratio = median_ratio(during, by_itself)
    cell_return = statistics.median(returns)
    say(
        f"{args.api}: --background cell returned in {ms(cell_return)} (median of "
        f"{len(returns)}); the same prompt in the foreground took "
        f"{ms(statistics.median(foreground))}",
        f"foreground Python cell: {ms(statistics.median(during))} while an answer streams, "
        f"{ms(statistics.median(by_itself))} alone (median paired ratio {ratio:.3f})",
    )
    emit(
        [
            Row(
                "18.1",
                f"time until a %%gemini --background cell returns ({args.api}), against the "
                "same prompt in the foreground",
                f"{ms(cell_return)} vs {ms(statistics.median(foreground))}",
                "< 0.5 s",
                cell_return < 0.5,
            ),
            Row(
                "18.1",
                f"a foreground Python cell while a background answer streams, against alone "
                f"({args.api}, {args.pairs} pairs; 2 cores shared)",
                f"{ratio:.3f}× ({ms(statistics.median(during))} vs "
                f"{ms(statistics.median(by_itself))})",
                "no target: measured",
                None,
            ),
        ],
        args.json,
    )


if __name__ == "__main__":
    main()
