"""Point 4: the cost of ``%load_ext gemini_magic``, and what it imports.

Each run is a fresh Python process that starts an IPython shell (not timed), then times
``%load_ext gemini_magic`` and reports which heavy modules it pulled in.  As a
reference, alternating with those runs, the same process times ``%load_ext autoreload``
(an extension that ships with IPython).

The load starts a warm-up thread that imports the SDK, pandas and pyarrow in the
background (``gemini_magic.warmup``), so "imported by ``%load_ext``" means imported by
the main thread while the load ran: an audit hook (the ``import`` event, raised in the
importing thread) records those, and the warm-up thread's imports are left out.  The
wall time includes what that thread takes from the main one (the GIL) meanwhile.

    python benchmarks/bench_import.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from common import ROOT, Row, emit, ms, paired, say, spread

HEAVY = ("google.genai", "pandas", "pyarrow", "numpy", "httpx2", "matplotlib")

PROBE = f"""
import json, sys, threading, time
from IPython.testing.globalipapp import start_ipython
shell = start_ipython()
main, loading, imported = threading.get_ident(), [True], []

def on_import(event, args):
    if event == "import" and loading[0] and threading.get_ident() == main:
        imported.append(args[0])

sys.addaudithook(on_import)
start = time.perf_counter()
shell.run_line_magic("load_ext", sys.argv[1])
seconds = time.perf_counter() - start
loading[0] = False
heavy = [m for m in {HEAVY!r} if m in imported]
print(json.dumps({{"seconds": seconds, "heavy": heavy, "modules": len(set(imported))}}))
"""


def probe(extension: str, seen: dict[str, dict]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, extension],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    seen[extension] = result
    return result["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    seen: dict[str, dict] = {}
    ours, reference = paired(
        lambda: probe("gemini_magic", seen), lambda: probe("autoreload", seen), args.runs
    )
    heavy = seen["gemini_magic"]["heavy"]
    say(
        f"%load_ext gemini_magic: {spread(ours)}; modules the main thread imported "
        f"{seen['gemini_magic']['modules']}",
        f"%load_ext autoreload:   {spread(reference)}",
        f"heavy modules imported by %load_ext gemini_magic (main thread): {heavy or 'none'}",
    )
    median = statistics.median(ours)
    emit(
        [
            Row(
                "4",
                f"%load_ext gemini_magic in a fresh process (median of {args.runs})",
                f"{ms(median)} (autoreload: {ms(statistics.median(reference))})",
                "≤ 100 ms",
                median <= 0.100,
            ),
            Row(
                "4",
                "heavy modules imported by %load_ext itself (main thread; the warm-up thread "
                "imports them in the background)",
                ", ".join(heavy) or "none of " + ", ".join(HEAVY),
                "SDK, pandas, pyarrow: none",
                not {"google.genai", "pandas", "pyarrow"} & set(heavy),
            ),
        ],
        args.json,
    )


if __name__ == "__main__":
    main()
