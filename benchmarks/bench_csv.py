"""How long a large DataFrame takes to become an attachment's CSV, and to be refused.

Writes a seeded 1,000,000-row x 10-column frame (floats, ints, strings, datetimes) with
``gemini_magic.inputs.frames.to_csv_bytes`` (pyarrow's writer where it is faithful) and with
``DataFrame.to_csv``, in paired runs (alternating order, so drift on a shared machine hits
both), and prints the medians and sizes.  Then times the early refusal of that frame under
the default 2,000,000-byte cap against building its full CSV.

    PYTHONPATH=. python benchmarks/bench_csv.py [--rows N] [--runs N]   (from the project root)
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time

import numpy as np
import pandas as pd

from gemini_magic.errors import AttachmentError
from gemini_magic.inputs.frames import frame_digest, to_csv_bytes
from gemini_magic.inputs.prompt import prepare_prompt
from gemini_magic.inputs.writers import pandas_csv


def make_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """Ten columns of the kinds a notebook holds: measures, counts, labels, timestamps."""
    rng = np.random.default_rng(seed)
    regions = np.array(["North", "South", "East", "West", "Centre, old town"])
    return pd.DataFrame(
        {
            "price": rng.normal(100, 15, rows).round(2),
            "ratio": rng.random(rows),
            "weight": np.where(rng.random(rows) < 0.05, np.nan, rng.gamma(2.0, 3.0, rows)),
            "units": rng.integers(0, 1_000, rows),
            "customer_id": rng.integers(10**6, 10**7, rows),
            "flag": rng.random(rows) < 0.5,
            "region": regions[rng.integers(0, len(regions), rows)],
            "sku": [f"SKU-{i:07d}" for i in rng.integers(0, 10**7, rows)],
            "ordered": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 365 * 86_400, rows), unit="s"),
            "day": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 1_500, rows), unit="D"),
        }
    )


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="paired runs per writer")
    args = parser.parse_args()

    frame = make_frame(args.rows)
    writer = pandas_csv(frame.iloc[:10])[1]
    times: dict[str, list[float]] = {"to_csv_bytes": [], "DataFrame.to_csv": []}
    sizes: dict[str, int] = {}
    writers = {
        "to_csv_bytes": lambda: to_csv_bytes(frame),
        "DataFrame.to_csv": lambda: frame.to_csv(index=False, lineterminator="\n").encode(),
    }
    for run in range(args.runs):
        order = list(writers) if run % 2 == 0 else list(reversed(writers))
        for name in order:
            seconds, data = timed(writers[name])
            times[name].append(seconds)
            sizes[name] = len(data)

    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    kinds = ", ".join(map(str, frame.dtypes.unique()))
    print(f"frame: {args.rows:,} rows x {frame.shape[1]} columns ({kinds})")
    print(f"to_csv_bytes writer for this frame: {writer}; {args.runs} paired runs")
    print()
    print(f"{'writer':<20} {'median s':>9} {'min s':>7} {'max s':>7} {'CSV bytes':>13}")
    for name, values in times.items():
        print(
            f"{name:<20} {statistics.median(values):>9.3f} {min(values):>7.3f} "
            f"{max(values):>7.3f} {sizes[name]:>13,}"
        )
    ratio = statistics.median(times["DataFrame.to_csv"]) / statistics.median(times["to_csv_bytes"])
    print(f"speed-up of the median: {ratio:.1f}x")

    refusals = []
    message = ""
    for _ in range(args.runs):
        start = time.perf_counter()
        try:
            prepare_prompt("Summarise {frame}", {"frame": frame})
        except AttachmentError as error:
            message = error.message
        else:
            raise SystemExit("the frame was not refused: raise --rows")
        refusals.append(time.perf_counter() - start)
    print()
    print(
        f"early refusal under the 2,000,000-byte cap: median {statistics.median(refusals):.3f} s "
        f"vs full CSV {statistics.median(times['to_csv_bytes']):.3f} s"
    )
    print(f"refusal message: {message}")

    digest_seconds, _ = timed(lambda: frame_digest(frame))
    print(f"frame_digest of the whole frame (upload-cache key): {digest_seconds:.3f} s")


if __name__ == "__main__":
    main()
