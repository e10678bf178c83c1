"""Run every benchmark and print one Markdown table: figures, targets, met or gap.

    python benchmarks/run.py            # the full run (a few minutes)
    python benchmarks/run.py --quick    # fewer pairs and a smaller frame: checks it works

Each benchmark runs in its own process (``benchmarks/bench_*.py --json``), so one's
imports and threads do not colour another's figures; their details follow the table.
Every comparison is side by side in one run: paired, alternating order, medians.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time

from common import ROOT, Row, machine

HERE = ROOT / "benchmarks"

GC, INTERACTIONS = ["--api", "generate_content"], ["--api", "interactions"]

#: Script, full-run arguments, quick-run arguments.  Points 2-8 are the first issue's;
#: 11.13 is issue 11 point 13 (the Interactions API), 14.3 issue 14 point 3 (warm-up),
#: 18.1 and 18.2 issue 18 points 1 and 2 (background prompts, long answers).
BENCHMARKS = [
    ("bench_overhead.py", [*GC, "--pairs", "15"], [*GC, "--pairs", "2"]),
    ("bench_overhead.py", [*INTERACTIONS, "--pairs", "15"], [*INTERACTIONS, "--pairs", "2"]),
    ("bench_first_output.py", [*GC, "--runs", "15"], [*GC, "--runs", "2"]),
    ("bench_first_output.py", [*INTERACTIONS, "--runs", "15"], [*INTERACTIONS, "--runs", "2"]),
    ("bench_import.py", ["--runs", "15"], ["--runs", "2"]),
    ("bench_first_prompt.py", ["--runs", "5"], ["--runs", "1"]),
    ("bench_wire.py", [], ["--rows", "8000"]),
    ("bench_interactions_wire.py", [], ["--rows", "8000"]),
    ("bench_kernel.py", ["--runs", "9"], ["--runs", "1"]),
    ("bench_long.py", [*GC, "--pairs", "5"], [*GC, "--pairs", "1"]),
    ("bench_long.py", [*INTERACTIONS, "--pairs", "5"], [*INTERACTIONS, "--pairs", "1"]),
    ("bench_background.py", [*GC, "--pairs", "5"], [*GC, "--pairs", "1"]),
    ("bench_background.py", [*INTERACTIONS, "--pairs", "5"], [*INTERACTIONS, "--pairs", "1"]),
]
CSV_BENCH = ("bench_csv.py", ["--runs", "3"], ["--rows", "20000", "--runs", "1"])


def run(script: str, args: list[str], json_rows: bool) -> tuple[str, str]:
    """Run one benchmark; return its stdout and stderr (raises if it failed)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
    env.pop("GOOGLE_GENAI_USE_VERTEXAI", None)
    command = [sys.executable, str(HERE / script), *args, *(["--json"] if json_rows else [])]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{script} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout, done.stderr


def csv_rows(output: str, quick: bool) -> list[Row]:
    """Rows for point 7 from bench_csv.py's printed report (kept as it is)."""

    def number(pattern: str) -> float:
        found = re.search(pattern, output)
        if found is None:
            raise SystemExit(f"bench_csv.py output changed; no match for {pattern!r}")
        return float(found.group(1).replace(",", ""))

    ours = number(r"to_csv_bytes\s+([\d.]+)")
    pandas = number(r"DataFrame\.to_csv\s+([\d.]+)")
    refusal = number(r"early refusal .*?median ([\d.]+) s")
    rows = "20,000" if quick else "1,000,000"
    return [
        Row(
            "7",
            f"CSV of a {rows}-row × 10-column frame: pyarrow writer vs DataFrame.to_csv",
            f"{ours:.3f} s vs {pandas:.3f} s ({pandas / ours:.1f}× faster)",
            "pyarrow used, timed side by side",
            ours < pandas,
        ),
        Row(
            "7",
            "refusing that frame (over the 2 MB cap) vs building its CSV",
            f"{refusal:.3f} s vs {ours:.3f} s",
            "refused before the full CSV is built",
            refusal < ours,
        ),
    ]


def table(rows: list[Row]) -> str:
    lines = [
        "| # | measure | figure | target | verdict |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        verdict = {True: "met", False: "**gap**", None: "—"}[row.met]
        note = f" — {row.note}" if row.note else ""
        cells = [row.point, row.measure + note, row.figure, row.target, verdict]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fast run that checks it works")
    args = parser.parse_args()

    command = shlex.join(["python", "benchmarks/run.py", *sys.argv[1:]])
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    where = machine()
    rows: list[Row] = []
    details: list[str] = []
    for script, full, quick in BENCHMARKS:
        arguments = quick if args.quick else full
        stdout, stderr = run(script, arguments, json_rows=True)
        rows += [Row(**r) for r in json.loads(stdout.strip().splitlines()[-1])]
        details.append(f"### {shlex.join([script, *arguments])}\n\n```\n{stderr.strip()}\n```")
    script, full, quick = CSV_BENCH
    stdout, _ = run(script, quick if args.quick else full, json_rows=False)
    rows += csv_rows(stdout, args.quick)
    details.append(f"### {script}\n\n```\n{stdout.strip()}\n```")
    rows.sort(key=lambda r: tuple(int(n) for n in r.point.split(".")))  # 2 … 8, 11.13, 14.3

    print(f"## Benchmarks\n\nCommand: `{command}` (from the project root)  ")
    print(f"Machine: {where}  ")
    quick_note = " (QUICK run: too few pairs and too small a frame for the verdicts to mean much)"
    print(
        f"Run: {started}; emulator over real HTTP on loopback" + (quick_note if args.quick else "")
    )
    print()
    print(table(rows))
    print()
    print(TOKENS_NOTE)
    print()
    print("\n\n".join(details))


TOKENS_NOTE = """\
Token figures (point 6) are the emulator's: a deterministic approximation (about four
characters a token) that counts the same way with and without a context cache, so the
ratios hold but the absolute numbers are not the service's. Cache storage, billed per
token-hour by the service, is not in them."""


if __name__ == "__main__":
    main()
