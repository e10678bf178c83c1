"""Points 2 and 11.13a: what ``%%gemini`` adds to the bare SDK streaming call, per API.

One IPython shell runs two cells in alternating pairs against the emulator (its own
process, real HTTP), both getting the same scripted reply: text, code that draws a
scatter of seeded noise (executed for real by the emulator: its result and a ~60 KB
PNG come back), more text.  ``--api`` picks the API both arms use, set explicitly
(``%config GeminiMagics.api``) so the comparison stays like for like whatever the
default is; ``run.py`` runs it once for each:

* ``--api generate_content`` (point 2): magic ``%%gemini --new`` (``--new``: no history,
  so both send the same request); bare SDK: a cell iterating
  ``client.models.generate_content_stream`` over the same prompt and config;
* ``--api interactions`` (issue 11 point 13a): magic ``%%gemini`` continuing its
  conversation (each turn sends only its prompt and ``previous_interaction_id``); bare
  SDK: a cell iterating ``client.interactions.create(..., tools=[{"type":
  "code_execution"}], stream=True)`` that chains its own ``previous_interaction_id``
  (taken from the ``interaction.created`` event).

Both SDK cells use a long-lived client and do nothing with the events.

Both run inside ``capture_output`` (the shell's capturing display publisher), wall time
of ``run_cell``.  Reported: the median of per-pair ratios (the target), the median
per-pair difference, and the main thread's CPU time per cell (``time.thread_time``):
that is the client-side work (SDK parsing plus, for the magic, prompt building, display
and history), free of the emulator's time, which runs in another process.

    python benchmarks/bench_overhead.py [--api API] [--pairs N] [--profile] [--json]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import time

from common import SCATTER_REPLY, Row, emit, median_ratio, ms, paired, say, spread
from emulator_process import EmulatorProcess

PROMPT = "Draw a scatter of seeded noise and give the correlation."
MODEL = "gemini-3.8-flash"

#: A second reply with no code to run: ~6,000 characters of Markdown, ~150 events, so
#: the server is fast and the per-event work of the display is what the ratio shows.
ESSAY_PROMPT = "Write an essay about streaming."
ESSAY_REPLY = {
    "match": "essay",
    "parts": [
        {
            "text": "\n\n".join(
                f"**Paragraph {n}.** Streaming shows each piece of an answer as it arrives, "
                "so a reader starts reading while the rest is still being written; the "
                "display grows in place, one output, `updated` as text comes in."
                for n in range(1, 31)
            )
        }
    ],
}

APIS = ("generate_content", "interactions")
#: The table's point for each API: issue 2's overhead, issue 11's point 13a.
POINTS = {"generate_content": "2", "interactions": "11.13"}

SDK_SETUP = """
from google import genai as _genai
from google.genai import types as _types
_bench_client = _genai.Client()
_bench_config = _types.GenerateContentConfig(
    tools=[_types.Tool(code_execution=_types.ToolCodeExecution())]
)
_bench_previous = None
"""


def sdk_cell(prompt: str, api: str) -> str:
    """The bare SDK's streaming call on ``api``; on Interactions it chains its own id."""
    if api == "generate_content":
        return f"""
for _chunk in _bench_client.models.generate_content_stream(
    model={MODEL!r}, contents={prompt!r}, config=_bench_config
):
    pass
"""
    return f"""
_chain = {{}} if _bench_previous is None else {{"previous_interaction_id": _bench_previous}}
with _bench_client.interactions.create(
    model={MODEL!r}, input={prompt!r}, tools=[{{"type": "code_execution"}}], stream=True,
    **_chain
) as _events:
    for _event in _events:
        if _event.event_type == "interaction.created":
            _bench_previous = _event.interaction.id
"""


def magic_cell(prompt: str, api: str) -> str:
    """``--new`` on generate_content (no history resent); a chained turn on Interactions."""
    return f"%%gemini{' --new' if api == 'generate_content' else ''}\n{prompt}"


def make_shell(api: str):
    """An in-process IPython shell with the extension loaded, as a notebook has."""
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    shell.run_line_magic("load_ext", "gemini_magic")
    shell.run_cell("%config GeminiMagics.history_file = ''")
    shell.run_cell(f"%config GeminiMagics.api = {api!r}")
    return shell


def timed_cell(shell, source: str, expect_png: bool = False) -> tuple[float, float]:
    """Wall and main-thread CPU seconds of one cell; raises if the cell failed."""
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        wall, cpu = time.perf_counter(), time.thread_time()
        result = shell.run_cell(source)
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    if not result.success:
        raise RuntimeError(f"benchmark cell failed: {result.error_in_exec!r}")
    if expect_png and not any("image/png" in o.data for o in captured.outputs):
        raise RuntimeError("the magic showed no PNG: the reply is not the one measured")
    return wall, cpu


def png_size(shell) -> int:
    answer = shell.user_ns["_gemini"]
    return len(answer.images[0].data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", choices=APIS, default="generate_content")
    parser.add_argument("--pairs", type=int, default=15)
    parser.add_argument("--profile", action="store_true", help="cProfile the magic's cells")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    api, n = args.api, args.pairs
    magic_scatter, sdk_scatter = magic_cell(PROMPT, api), sdk_cell(PROMPT, api)
    magic_essay, sdk_essay = magic_cell(ESSAY_PROMPT, api), sdk_cell(ESSAY_PROMPT, api)

    with EmulatorProcess([SCATTER_REPLY, ESSAY_REPLY]) as emulator:
        os.environ["GOOGLE_GEMINI_BASE_URL"] = emulator.url
        os.environ["GEMINI_API_KEY"] = emulator.key  # it answers only its own key
        os.environ.pop("GOOGLE_API_KEY", None)  # which would win over GEMINI_API_KEY
        shell = make_shell(api)
        shell.run_cell(SDK_SETUP)
        cpu: dict[str, list[float]] = {"magic": [], "sdk": []}

        def run(name: str, source: str, expect_png: bool = False) -> float:
            wall, used = timed_cell(shell, source, expect_png)
            cpu[name].append(used)
            return wall

        run("magic", magic_scatter, True)  # warm-up: imports, connection, first client
        run("sdk", sdk_scatter)
        cpu = {"magic": [], "sdk": []}
        image_bytes = png_size(shell)
        if args.profile:
            profile(shell, magic_scatter, n)
            return
        magic, sdk = paired(
            lambda: run("magic", magic_scatter, True), lambda: run("sdk", sdk_scatter), n
        )
        run("magic", magic_essay), run("sdk", sdk_essay)  # warm-up
        essay_magic, essay_sdk = paired(
            lambda: run("magic", magic_essay), lambda: run("sdk", sdk_essay), n
        )

    ratio = median_ratio(magic, sdk)
    diff = statistics.median(m - s for m, s in zip(magic, sdk, strict=True))
    cpu_diff = statistics.median(
        m - s for m, s in zip(cpu["magic"][:n], cpu["sdk"][:n], strict=True)
    )
    essay_ratio = median_ratio(essay_magic, essay_sdk)
    essay_diff = statistics.median(m - s for m, s in zip(essay_magic, essay_sdk, strict=True))
    say(
        f"API: {api}; reply: text, code, result, PNG of {image_bytes:,} bytes; {n} pairs",
        f"%%gemini wall: {spread(magic)}",
        f"bare SDK wall: {spread(sdk)}",
        f"median paired ratio {ratio:.3f}, median paired difference {ms(diff)}",
        f"main-thread CPU per cell: %%gemini {spread(cpu['magic'][:n])}; "
        f"SDK {spread(cpu['sdk'][:n])}; median paired difference {ms(cpu_diff)}",
        f"text-only reply ({len(ESSAY_REPLY['parts'][0]['text']):,} characters, no code):",
        f"  %%gemini wall: {spread(essay_magic)}",
        f"  bare SDK wall: {spread(essay_sdk)}",
        f"  median paired ratio {essay_ratio:.3f}, median paired difference {ms(essay_diff)}",
    )
    point = POINTS[api]
    if api == "generate_content":
        arms = "%%gemini --new vs bare SDK generate_content_stream, on generate_content"
    else:
        arms = (
            "%%gemini vs bare SDK interactions.create(stream=True), on Interactions, "
            "both chaining previous_interaction_id"
        )
    emit(
        [
            Row(
                point,
                f"{arms}: wall time (median of {n} paired ratios)",
                f"{ratio:.3f}× ({diff * 1000:+.0f} ms; {statistics.median(magic):.2f} s vs "
                f"{statistics.median(sdk):.2f} s)",
                "≤ 1.10×",
                ratio <= 1.10,
                f"reply: text, code, result, {image_bytes / 1000:.0f} KB PNG; the emulator "
                "executes the code for real each time, so its time is in both arms",
            ),
            Row(
                point,
                f"client-side CPU of one answer (main thread), %%gemini − bare SDK, on {api}",
                f"{cpu_diff * 1000:+.1f} ms ({statistics.median(cpu['magic'][:n]) * 1000:.1f} ms "
                f"vs {statistics.median(cpu['sdk'][:n]) * 1000:.1f} ms)",
                "(none: explains the ratio)",
                None,
                "prompt building, display updates, history merge, footer",
            ),
            Row(
                point,
                f"the same for a text-only reply of ~150 events, no code, on {api} "
                f"({n} paired ratios)",
                f"{essay_ratio:.3f}× ({essay_diff * 1000:+.0f} ms; "
                f"{statistics.median(essay_magic) * 1000:.0f} ms vs "
                f"{statistics.median(essay_sdk) * 1000:.0f} ms)",
                "(none: a harsher case)",
                None,
                "the server is fast here, so the display's per-event work shows",
            ),
        ],
        args.json,
    )


def profile(shell, source: str, cells: int) -> None:
    """cProfile ``cells`` magic cells and print where the client-side time goes."""
    profiler = cProfile.Profile()
    for _ in range(cells):
        profiler.enable()
        timed_cell(shell, source, expect_png=True)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
    stats.print_stats(30)
    stats.sort_stats("cumulative").print_stats("gemini_magic/", 40)
    say(out.getvalue())


if __name__ == "__main__":
    main()
