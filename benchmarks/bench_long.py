"""Issue 18 point 2: a long answer costs the front end O(n), in a real kernel.

A 23 kB Markdown answer (headings, paragraphs, lists, code, a table) streams from the
emulator (its own process) in 980 text deltas, 5 ms apart.  In a real ipykernel
(jupyter_client) the ``%%gemini`` cell and a bare SDK loop that prints each delta run
in turn, paired; for each the client counts what reaches the front end: the bytes of
every ``display_data`` / ``update_display_data`` bundle (Markdown plus text/plain, the
figure the target is about) and of whole messages, and the time from the execute
request to its reply.  A second run with 250 ms between events checks that the first
text is on the wire before the next delta arrives.

    python benchmarks/bench_long.py [--api interactions|generate_content] [--pairs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from typing import Any

from common import ROOT, Row, emit, median_ratio, paired, say
from emulator_process import EmulatorProcess

MODEL = "gemini-3.8-flash"
PROMPT = "Write the long report."
DELTAS = 980


def long_answer(size: int = 23_000) -> str:
    """A Markdown report of about ``size`` characters: what a long answer looks like."""
    sections: list[str] = []
    number = 0
    while sum(map(len, sections)) < size:
        number += 1
        sections.append(
            f"## Section {number}: revenue by region\n\n"
            + "The revenue of the northern region grew steadily over the year, while the "
            "southern region stalled in the second quarter before it recovered. "
            * 2
            + "\n\n- north: up 12 % on the year\n- south: flat, then up 4 %\n"
            "- east: down 3 %\n\n"
            "```python\nimport pandas as pd\n\n"
            "totals = sales.groupby('region')['revenue'].sum()\nprint(totals)\n```\n\n"
            "| region | revenue | change |\n|---|---:|---:|\n| north | 120.5 | +12 % |\n"
            "| south | 98.0 | +4 % |\n| east | 77.25 | -3 % |\n\n"
        )
    return "".join(sections)[:size].rstrip() + "\n\nThat is the whole report.\n"


def replies(text: str, deltas: int) -> list[dict[str, Any]]:
    """One scripted reply whose text arrives in ``deltas`` pieces (one event each)."""
    step = -(-len(text) // deltas)
    parts = [{"text": text[i : i + step]} for i in range(0, len(text), step)]
    return [{"match": "long report", "parts": parts}]


def bare_cell(api: str) -> str:
    """The bare SDK's streaming call on ``api``, printing each text delta."""
    if api == "generate_content":
        return f"""
for _chunk in _bench_client.models.generate_content_stream(
    model={MODEL!r}, contents={PROMPT!r},
    config={{"tools": [{{"code_execution": {{}}}}]}},
):
    print(_chunk.text or "", end="")
"""
    return f"""
with _bench_client.interactions.create(
    model={MODEL!r}, input={PROMPT!r}, tools=[{{"type": "code_execution"}}], stream=True
) as _events:
    for _event in _events:
        if _event.event_type == "step.delta" and getattr(_event.delta, "type", "") == "text":
            print(_event.delta.text, end="")
"""


class Kernel:
    """A python3 kernel with the extension loaded and a bare SDK client made."""

    def __init__(self, emulator: EmulatorProcess, api: str) -> None:
        from jupyter_client.manager import KernelManager

        env = {**os.environ, "GOOGLE_GEMINI_BASE_URL": emulator.url, "GEMINI_API_KEY": emulator.key}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env.pop("GOOGLE_GENAI_USE_VERTEXAI", None)
        self._folder = tempfile.TemporaryDirectory(prefix="gm-bench-long-")
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(env=env, cwd=self._folder.name)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        setup = (
            "%load_ext gemini_magic\n"
            "%config GeminiMagics.history_file = ''\n"
            f"%config GeminiMagics.api = {api!r}\n"
            "from google import genai as _genai\n_bench_client = _genai.Client()"
        )
        self.run(setup)

    def run(self, code: str) -> dict[str, Any]:
        """Run a cell; return its time, what its displays weighed, when texts arrived."""
        started = time.perf_counter()
        msg_id = self.client.execute(code)
        payload = whole = count = 0
        arrivals: list[tuple[float, str]] = []
        while True:
            msg = self.client.get_iopub_msg(timeout=120)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind in ("display_data", "update_display_data", "stream"):
                data = msg["content"].get("data") or {"text/plain": msg["content"].get("text")}
                payload += len(json.dumps(data).encode())
                whole += (
                    len(json.dumps(msg["content"]).encode())
                    + len(json.dumps(msg["header"], default=str).encode()) * 2
                )  # the header and the parent header travel with every message
                count += 1
                arrivals.append((time.perf_counter(), str(data.get("text/plain", ""))))
            if kind == "error":
                raise RuntimeError(f"benchmark cell failed: {msg['content']['evalue']}")
            if kind == "status" and msg["content"]["execution_state"] == "idle":
                break
        reply = self.client.get_shell_msg(timeout=120)
        seconds = time.perf_counter() - started
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"benchmark cell failed: {reply['content']}")
        return {
            "seconds": seconds,
            "payload": payload,
            "whole": whole,
            "messages": count,
            "arrivals": arrivals,
        }

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        self._folder.cleanup()


def first_text_lead(api: str, gap: float = 0.25) -> float:
    """Seconds between the first answer text shown and the next one (events ``gap`` apart)."""
    text = "First words of the answer. " * 8
    with EmulatorProcess(replies(text, 8), delay=gap) as emulator:
        kernel = Kernel(emulator, api)
        try:
            shown = kernel.run(f"%%gemini\n{PROMPT}")["arrivals"]
        finally:
            kernel.close()
    texts = [when for when, plain in shown if plain.startswith("First words")]
    return texts[1] - texts[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--api", choices=("interactions", "generate_content"), default="interactions"
    )
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    text = long_answer()
    size = len(text.encode())
    results: dict[str, list[dict[str, Any]]] = {"magic": [], "bare": []}
    with EmulatorProcess(replies(text, DELTAS), delay=0.005) as emulator:
        kernel = Kernel(emulator, args.api)
        try:

            def arm(name: str, code: str) -> Any:
                def once() -> float:
                    result = kernel.run(code)
                    results[name].append(result)
                    return result["seconds"]

                return once

            kernel.run(f"%%gemini\n{PROMPT}")  # first prompt: the SDK and client warm
            magic, bare = paired(
                arm("magic", f"%%gemini --new\n{PROMPT}"),
                arm("bare", bare_cell(args.api)),
                args.pairs,
            )
        finally:
            kernel.close()
    payload = statistics.median(r["payload"] for r in results["magic"])
    whole = statistics.median(r["whole"] for r in results["magic"])
    messages = statistics.median(r["messages"] for r in results["magic"])
    bare_payload = statistics.median(r["payload"] for r in results["bare"])
    ratio = median_ratio(magic, bare)
    lead = first_text_lead(args.api)
    say(
        f"answer: {size:,} bytes in {DELTAS} deltas, 5 ms apart ({args.api})",
        f"%%gemini: {payload:,.0f} bytes of bundles ({payload / size:.2f}×), {whole:,.0f} bytes "
        f"with message envelopes, {messages:.0f} messages",
        f"bare SDK loop printing each delta: {bare_payload:,.0f} bytes of stream messages",
        f"cell time: %%gemini median {statistics.median(magic):.3f} s, bare "
        f"{statistics.median(bare):.3f} s, median paired ratio {ratio:.3f}",
        f"first text shown {lead * 1000:.0f} ms before the next (events 250 ms apart)",
    )
    emit(
        [
            Row(
                "18.2",
                f"bytes of display bundles a 23 kB, {DELTAS}-delta answer sends the front end "
                f"({args.api}), against the answer's size",
                f"{payload / size:.2f}× ({payload:,.0f} B; {whole:,.0f} B with envelopes; "
                f"{messages:.0f} messages)",
                "≤ 4×",
                payload / size <= 4,
            ),
            Row(
                "18.2",
                f"cell time of that answer, %%gemini vs a bare SDK loop printing each delta "
                f"({args.api}, {args.pairs} pairs)",
                f"{ratio:.3f}× ({statistics.median(magic):.3f} s vs "
                f"{statistics.median(bare):.3f} s)",
                "≤ 1.05×",
                ratio <= 1.05,
            ),
            Row(
                "18.2",
                f"first text shown before the next delta arrives ({args.api}; events 250 ms apart)",
                f"{lead * 1000:.0f} ms before",
                "before the second event",
                lead > 0.125,
            ),
        ],
        args.json,
    )


if __name__ == "__main__":
    main()
