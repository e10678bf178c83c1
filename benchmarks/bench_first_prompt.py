"""Issue 14 point 3: the first prompt after ``%load_ext`` against the later ones.

Each run is a fresh Python process (the emulator is one separate process for all of
them): it starts an IPython shell, times ``%load_ext gemini_magic``, sets the history
file off, sleeps 3 s (``time.sleep``: an idle kernel, while the warm-up thread the load
started imports the SDK, pandas and pyarrow and builds the client), then times five
``%%gemini --new`` cells with the same prompt and the same scripted text reply
(``--new``: no history, so each sends the same request).  The figure of a run is the
first prompt minus the median of prompts 2-5.

The "before" is the same process with the warm-up switched off by this benchmark
(``gemini_magic.warmup.Warmup.start`` replaced by a no-op before the load, the package
untouched), so the first prompt pays the imports and the client itself, as before
issue 14.  The two kinds of process alternate, and the table gives medians over runs.

The reply is text only (no code), so the emulator's time is small and the same each
turn and what differs is the client side; the default API is used (Interactions).

    python benchmarks/bench_first_prompt.py [--runs N] [--idle S] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from common import Row, emit, ms, paired, say
from emulator_process import EmulatorProcess

PROMPT = "Say hello to the data."
REPLY = {"match": "hello", "parts": [{"text": "Hello! Ask me anything about your frames."}]}
PROMPTS = 5

#: One fresh process: argv[1] is "on" (as shipped) or "off" (warm-up made a no-op),
#: argv[2] the idle seconds.  Prints one JSON line.
PROBE = f"""
import json, statistics, sys, time
if sys.argv[1] == "off":
    import gemini_magic.warmup
    gemini_magic.warmup.Warmup.start = lambda self: self  # the "before": no warm-up
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output
shell = start_ipython()
start = time.perf_counter()
shell.run_line_magic("load_ext", "gemini_magic")
load = time.perf_counter() - start
shell.run_cell("%config GeminiMagics.history_file = ''")
time.sleep(float(sys.argv[2]))
prompts = []
for _ in range({PROMPTS}):
    with capture_output() as captured:
        start = time.perf_counter()
        result = shell.run_cell("%%gemini --new\\n{PROMPT}")
        prompts.append(time.perf_counter() - start)
    if not result.success or "Hello!" not in str([o.data for o in captured.outputs]):
        raise SystemExit(f"the prompt failed or showed no answer: {{result.error_in_exec!r}}")
print(json.dumps({{"load": load, "prompts": prompts}}))
"""


def probe(
    warmup: str, idle: float, emulator: EmulatorProcess, seen: dict[str, list[dict]]
) -> float:
    """Run one fresh process; keep its figures and return first − median(later)."""
    env = {**os.environ, "GOOGLE_GEMINI_BASE_URL": emulator.url, "GEMINI_API_KEY": emulator.key}
    env.pop("GOOGLE_API_KEY", None)  # which would win over GEMINI_API_KEY
    env.pop("GOOGLE_GENAI_USE_VERTEXAI", None)
    with tempfile.TemporaryDirectory(prefix="gm-first-prompt-") as folder:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, warmup, str(idle)],
            cwd=folder,  # no history file or notebook of ours nearby
            env=env,
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        raise RuntimeError(f"the {warmup!r} process failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    seen[warmup].append(result)
    first, *later = result["prompts"]
    return first - statistics.median(later)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes of each kind")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds between load and prompt")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    seen: dict[str, list[dict]] = {"on": [], "off": []}
    with EmulatorProcess([REPLY]) as emulator:
        on, off = paired(
            lambda: probe("on", args.idle, emulator, seen),
            lambda: probe("off", args.idle, emulator, seen),
            args.runs,
        )
    loads = [r["load"] for r in seen["on"]]
    later_on = statistics.median(statistics.median(r["prompts"][1:]) for r in seen["on"])
    first_on = statistics.median(r["prompts"][0] for r in seen["on"])
    first_off = statistics.median(r["prompts"][0] for r in seen["off"])
    for kind in ("on", "off"):
        for number, run in enumerate(seen[kind], 1):
            figures = ", ".join(f"{p * 1000:.0f}" for p in run["prompts"])
            say(
                f"warm-up {kind:3} run {number}: %load_ext {ms(run['load'])}; "
                f"prompts [{figures}] ms"
            )
    say(
        f"first − median(2nd..{PROMPTS}th), warm-up on:  median {ms(statistics.median(on))} "
        f"(runs: {', '.join(f'{d * 1000:+.0f}' for d in on)} ms)",
        f"first − median(2nd..{PROMPTS}th), warm-up off: median {ms(statistics.median(off))} "
        f"(runs: {', '.join(f'{d * 1000:+.0f}' for d in off)} ms)",
    )
    delta = statistics.median(on)
    load = statistics.median(loads)
    emit(
        [
            Row(
                "14.3",
                f"first prompt after %load_ext and {args.idle:g} s idle, minus the median of "
                f"prompts 2-{PROMPTS}, same process and reply (median of {args.runs} fresh "
                "processes)",
                f"{delta * 1000:+.0f} ms (first {ms(first_on)}, later {ms(later_on)}); "
                f"before, warm-up off: {statistics.median(off) * 1000:+.0f} ms "
                f"(first {ms(first_off)})",
                "≤ +100 ms",
                delta <= 0.100,
                "text reply on the default API (Interactions); 'before' = the same process "
                "with gemini_magic.warmup.Warmup.start made a no-op by the benchmark",
            ),
            Row(
                "14.3",
                f"%load_ext gemini_magic wall time in those processes (median of {args.runs})",
                f"{ms(load)} (min {ms(min(loads))}, max {ms(max(loads))})",
                "< 100 ms",
                load < 0.100,
                "the warm-up thread starts inside it and shares the GIL",
            ),
        ],
        args.json,
    )


if __name__ == "__main__":
    main()
