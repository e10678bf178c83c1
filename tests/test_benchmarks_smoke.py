"""The benchmark runner works: a quick run prints the table with every point in it.

No timing is asserted here (speed targets are the benchmarks' own business); this only
guards against the one-command runner breaking as the code under it changes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_benchmark_run_prints_the_table_for_every_point():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "GEMINI_"))}
    done = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    out = done.stdout
    assert "Command: `python benchmarks/run.py --quick`" in out
    assert "Machine: " in out and "Python 3." in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line]
    points = {row.split("|")[1].strip() for row in rows[1:]}
    assert points == {"2", "3", "4", "5", "6", "7", "8", "11.13", "14.3", "18.1", "18.2"}
    assert "cached" in out  # point 6 measures context caching on against off
