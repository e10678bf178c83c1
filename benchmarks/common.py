"""What every benchmark shares: paired timing, the machine, result rows, scripted replies.

Each ``bench_*.py`` prints its details for a human on stderr and, with ``--json``, one
JSON line of result rows on stdout for ``run.py`` to gather into the table.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The code of the overhead benchmark's scripted reply: a scatter of seeded noise whose
#: PNG is about 60 KB, and one printed line (the execution result).
SCATTER_CODE = (
    "import numpy as np\n"
    "import matplotlib.pyplot as plt\n"
    "rng = np.random.default_rng(0)\n"
    "x, y = rng.normal(size=(2, 2500))\n"
    "plt.figure(figsize=(6.4, 4.8))\n"
    "plt.scatter(x, y, s=4, alpha=0.5)\n"
    "print(f'correlation {np.corrcoef(x, y)[0, 1]:.4f}')\n"
)

#: A reply with text, code, its result and a ~60 KB PNG, then more text.
SCATTER_REPLY = {
    "match": "scatter",
    "parts": [
        {
            "text": "I'll draw a scatter plot of seeded noise with Matplotlib and report the "
            "correlation of the two coordinates."
        },
        {"code": SCATTER_CODE},
        {"text": "The plot shows a round cloud; the {output}, close to zero as expected."},
    ],
}


@dataclass
class Row:
    """One line of the table: a measured figure against its target."""

    point: str
    measure: str
    figure: str
    target: str
    met: bool | None  # None: no target, or not measured
    note: str = ""


def machine() -> str:
    """nproc, CPU model, Python version: the conditions the figures were taken under."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, load average at start {load}"
    )


def paired(
    first: Callable[[], float], second: Callable[[], float], pairs: int
) -> tuple[list[float], list[float]]:
    """Time ``first`` and ``second`` ``pairs`` times each, alternating which goes first.

    Each callable returns the seconds it measured.  Alternating the order spreads drift on
    a shared machine (and any warm-cache advantage) evenly over both.
    """
    a: list[float] = []
    b: list[float] = []
    for index in range(pairs):
        if index % 2 == 0:
            a.append(first())
            b.append(second())
        else:
            b.append(second())
            a.append(first())
    return a, b


def median_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """The median of the per-pair ratios ``a[i] / b[i]``."""
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def spread(values: Sequence[float]) -> str:
    """Median with min-max, in milliseconds."""
    return (
        f"median {statistics.median(values) * 1000:.1f} ms "
        f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f}, n={len(values)})"
    )


def say(*lines: str) -> None:
    """Details for a human: stderr, so stdout stays one JSON line under ``--json``."""
    for line in lines:
        print(line, file=sys.stderr)


def emit(rows: list[Row], as_json: bool) -> None:
    if as_json:
        print(json.dumps([asdict(r) for r in rows]))
    else:
        for row in rows:
            verdict = {True: "met", False: "GAP", None: "-"}[row.met]
            say(f"[{row.point}] {row.measure}: {row.figure} (target {row.target}) {verdict}")
            if row.note:
                say(f"    {row.note}")
