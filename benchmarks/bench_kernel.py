"""Point 8: how long the Gemini kernel takes to start, against a stock ipykernel.

Each run writes a connection file, launches the kernel process (``python -m
gemini_magic.kernel -f FILE`` or ``python -m ipykernel_launcher -f FILE``), and times
until its ``kernel_info_reply`` arrives (``BlockingKernelClient.wait_for_ready``), then
shuts it down.  The two alternate, and the table gives the median of the paired ratios.
No prompt is sent, so neither API is involved: this measures the kernel's own start
(its imports and the extension load, whose warm-up thread runs in the background).

    python benchmarks/bench_kernel.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from common import ROOT, Row, emit, median_ratio, ms, paired, say, spread

KERNELS = {
    "gemini": [sys.executable, "-m", "gemini_magic.kernel"],
    "ipykernel": [sys.executable, "-m", "ipykernel_launcher"],
}


def wait_for_kernel_info(client, process: subprocess.Popen, start: float) -> float:
    """Seconds from ``start`` to the kernel_info reply (polled every 10 ms, not 1 s)."""
    from queue import Empty

    msg_id = client.kernel_info()
    while time.perf_counter() - start < 60:
        try:
            msg = client.shell_channel.get_msg(timeout=0.01)
        except Empty:
            if process.poll() is not None:
                raise RuntimeError(f"the kernel exited with {process.returncode}") from None
            continue
        if msg["parent_header"].get("msg_id") == msg_id:
            return time.perf_counter() - start
    raise RuntimeError("no kernel_info reply within 60 s")


def start_once(command: list[str]) -> float:
    """Seconds from launch to the first kernel_info reply."""
    from jupyter_client import BlockingKernelClient
    from jupyter_client.connect import write_connection_file

    with tempfile.TemporaryDirectory(prefix="gm-kernel-bench-") as folder:
        path, _ = write_connection_file(os.path.join(folder, "kernel.json"))
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": folder}
        start = time.perf_counter()
        process = subprocess.Popen(
            [*command, "-f", path],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = BlockingKernelClient(connection_file=path)
        client.load_connection_file()
        client.start_channels(hb=False)
        try:
            seconds = wait_for_kernel_info(client, process, start)
            client.shutdown()
            process.wait(timeout=20)
        finally:
            client.stop_channels()
            if process.poll() is None:
                process.kill()
                process.wait()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    start_once(KERNELS["ipykernel"])  # warm the disk cache for both (shared modules)
    gemini, stock = paired(
        lambda: start_once(KERNELS["gemini"]), lambda: start_once(KERNELS["ipykernel"]), args.runs
    )
    ratio = median_ratio(gemini, stock)
    say(
        f"python -m gemini_magic.kernel: {spread(gemini)}",
        f"python -m ipykernel_launcher:  {spread(stock)}",
        f"median paired ratio {ratio:.3f}",
    )
    emit(
        [
            Row(
                "8",
                f"kernel start to kernel_info reply, Gemini vs stock ipykernel ({args.runs} pairs; "
                "no prompt, so no API)",
                f"{ratio:.3f}× ({ms(statistics.median(gemini))} vs {ms(statistics.median(stock))})",
                "≤ 1.2×",
                ratio <= 1.2,
            )
        ],
        args.json,
    )


if __name__ == "__main__":
    main()
