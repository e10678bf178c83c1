"""The streamed display of an answer, as a notebook user would see it.

Displays go through a real in-process IPython shell; the captured publications
(display, then in-place updates by display id) are folded into the outputs a
notebook would end up showing.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from google.genai import types
from IPython import get_ipython
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output

from gemini_magic.display.blocks import image_dimensions
from gemini_magic.display.footer import Footer
from gemini_magic.display.stream import StreamView, render_blocks, supports_live_updates
from gemini_magic.errors import ConfigurationError
from tests.helpers.markdown import HOSTILE, Dangers, boxes, dangers, render_html, renderers


@pytest.fixture(scope="module")
def shell() -> Any:
    start_ipython()  # a no-op when another test module started it
    return get_ipython()


def final_outputs(captured: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """What the notebook shows after applying every update to its display."""
    outputs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    by_id: dict[str, int] = {}
    for rich in captured.outputs:
        display_id = (rich.transient or {}).get("display_id")
        if rich.update:
            outputs[by_id[display_id]] = (rich.data, rich.metadata or {})
            continue
        if display_id is not None:
            by_id[display_id] = len(outputs)
        outputs.append((rich.data, rich.metadata or {}))
    return outputs


def stream(parts: list[types.Part], **options: Any) -> tuple[list[dict[str, Any]], Any]:
    """Stream ``parts`` through a StreamView in the shell; return final bundles and capture."""
    with capture_output() as captured:
        view = StreamView(update_interval=0, **options)
        for part in parts:
            view.add(part)
    return [data for data, _ in final_outputs(captured)], captured


def text(value: str, thought: bool | None = None) -> types.Part:
    return types.Part(text=value, thought=thought)


def code(value: str) -> types.Part:
    return types.Part(executable_code=types.ExecutableCode(code=value, language="PYTHON"))


def result(output: str, outcome: str = "OUTCOME_OK") -> types.Part:
    return types.Part(
        code_execution_result=types.CodeExecutionResult(outcome=outcome, output=output)
    )


def figure_bytes(fmt: str, width_px: int, height_px: int) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_px / 100, height_px / 100), dpi=100)
    fig.add_subplot().plot([1, 3, 2])
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=100)
    return buffer.getvalue()


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_streamed_in_small_chunks_stays_harmless(shell: Any, hostile: str) -> None:
    chunks = [text(hostile[i : i + 3]) for i in range(0, len(hostile), 3)]
    with capture_output() as captured:
        view = StreamView(update_interval=0)
        for chunk in chunks:
            view.add(chunk)
    for rich in captured.outputs:  # every intermediate state the front end rendered
        assert dangers(rich.data["text/markdown"]) == []
    shown = [d for d, _ in final_outputs(captured)]
    assert "".join(data["text/plain"] for data in shown) == hostile
    assert dangers("".join(data["text/markdown"] for data in shown)) == []


def test_a_growing_paragraph_is_updated_in_place_and_a_finished_one_frozen(shell: Any) -> None:
    chunks = ["The average ", "price is **42**", " euros.\n\nSecond ", "paragraph", "."]
    with capture_output() as captured:
        view = StreamView(update_interval=0)
        view.add(text(chunks[0]))
        first_shown = [dict(rich.data) for rich in captured.outputs]
        for chunk in chunks[1:]:
            view.add(text(chunk))
    assert first_shown == [{"text/markdown": "The average ", "text/plain": "The average "}]
    publications = captured.outputs
    first_id = publications[0].transient["display_id"]
    # The first paragraph grows in place, then is frozen (updated once more, to itself
    # alone) when the second begins; the second grows in an output of its own.
    assert [(p.update, p.transient["display_id"] == first_id) for p in publications] == [
        (False, True),
        (True, True),
        (True, True),
        (False, False),
        (True, False),
        (True, False),
    ]
    assert [d["text/plain"] for d, _ in final_outputs(captured)] == [
        "The average price is **42** euros.\n\n",
        "Second paragraph.",
    ]
    assert publications[-1].data["text/plain"] == "Second paragraph."  # the tail alone


def test_each_chunk_republishes_only_the_growing_output(shell: Any) -> None:
    parts = [text("Look:"), code("print(1)"), result("1\n"), text("So "), text("one.")]
    _, captured = stream(parts)
    kinds = [
        (p.update, "text/markdown" in p.data and p.data["text/plain"]) for p in captured.outputs
    ]
    assert kinds == [
        (False, "Look:"),
        (False, "Python:\n    print(1)"),
        (False, "Output:\n    1"),
        (False, "So "),
        (True, "So one."),
    ]


def test_code_is_a_labelled_shaded_python_block_with_plain_fallback(shell: Any) -> None:
    outputs, _ = stream([code("import pandas as pd\n\nprint(pd.__version__)\n")])
    ((data),) = outputs
    assert data["text/plain"] == "Python:\n    import pandas as pd\n\n    print(pd.__version__)"
    # A fence of its own, so that the front end highlights it as any fenced code.
    assert (
        "\n\n```python\nimport pandas as pd\n\nprint(pd.__version__)\n```\n\n"
        in (data["text/markdown"])
    )
    for render in renderers():
        (box,) = boxes(render(data["text/markdown"]))
        assert (box.classes, box.label) == ("gemini-magic-code", "Python")
        assert box.blocks == [("language-python", "import pandas as pd\n\nprint(pd.__version__)\n")]
        assert "background: var(--jp-layout-color2, " in box.style
        assert "error" not in box.style + box.label_style


def test_code_containing_backticks_gets_a_longer_fence(shell: Any) -> None:
    source = 's = """\n```\ninner\n```\n"""\nprint("<script>alert(1)</script>")'
    ((data, *_),) = [stream([code(source)])[0]]
    assert "\n\n````python\n" in data["text/markdown"]
    for render in renderers():
        rendered = render(data["text/markdown"])
        assert rendered.count("<pre>") == 1
        assert "&lt;script&gt;" in rendered and "<script>" not in rendered
        (box,) = boxes(rendered)
        assert box.blocks[0][1].startswith('s = """\n```\ninner\n```\n"""')


@pytest.mark.parametrize(
    ("outcome", "label"),
    [
        ("OUTCOME_FAILED", "Output (failed: OUTCOME_FAILED)"),
        ("OUTCOME_DEADLINE_EXCEEDED", "Output (timed out after 30 s: OUTCOME_DEADLINE_EXCEEDED)"),
        ("OUTCOME_UNSPECIFIED", "Output (ended with OUTCOME_UNSPECIFIED)"),
    ],
)
def test_failed_executions_are_labelled_in_the_error_colour(
    shell: Any, outcome: str, label: str
) -> None:
    ((data,),) = [stream([result("Traceback...\nZeroDivisionError", outcome)])[0]]
    assert data["text/plain"] == f"{label}:\n    Traceback...\n    ZeroDivisionError"
    for render in renderers():
        (box,) = boxes(render(data["text/markdown"]))
        assert box.classes == "gemini-magic-output gemini-magic-failed"
        assert box.label == label
        assert "color: var(--jp-error-color1, #d32f2f)" in box.label_style
        assert "var(--jp-error-color1, #d32f2f)" in box.style
        assert box.blocks == [(None, "Traceback...\nZeroDivisionError\n")]


def test_successful_execution_is_an_output_box_apart_from_the_code(shell: Any) -> None:
    outputs, _ = stream([code("print(4.2)"), result("mean    4.2\n<b>not bold</b>\n"), result("")])
    assert outputs[1]["text/plain"] == "Output:\n    mean    4.2\n    <b>not bold</b>"
    assert outputs[2]["text/plain"] == "Output:\n    (no output)"
    for render in renderers():
        code_box, output_box, empty_box = [
            box for output in outputs for box in boxes(render(output["text/markdown"]))
        ]
        assert (output_box.classes, output_box.label) == ("gemini-magic-output", "Output")
        assert output_box.blocks == [(None, "mean    4.2\n<b>not bold</b>\n")]
        assert "error" not in output_box.style + output_box.label_style
        assert "background" not in output_box.style  # only the code is shaded
        assert (empty_box.label, empty_box.blocks) == ("Output", [])
        assert code_box.label == "Python"


@pytest.mark.filterwarnings("ignore:.*is not a valid Outcome")
def test_labels_quote_an_unknown_outcome_harmlessly(shell: Any) -> None:
    hostile = "OUTCOME_<img src=x onerror=alert(1)>\n\n$x$ [a](javascript:alert(1))"
    ((data,),) = [stream([result("boom", hostile)])[0]]
    assert dangers(data["text/markdown"]) == []
    for render in renderers():
        (box,) = boxes(render(data["text/markdown"]))
        assert box.label == f"Output (ended with {hostile})"
        assert box.blocks == [(None, "boom\n")]


def test_long_code_and_output_are_folded_with_a_note(shell: Any) -> None:
    long_code = "\n".join(f"x{i} = {i}" for i in range(500))
    long_output = "y" * 50_000
    outputs, _ = stream(
        [code(long_code), result(long_output)], max_output_lines=50, max_output_chars=1_000
    )
    code_md = outputs[0]["text/markdown"]
    assert "x49 = 49" in code_md and "x50 = 50" not in code_md
    assert "450 more lines folded" in code_md
    assert "450 more lines folded" in outputs[0]["text/plain"]
    assert len(outputs[1]["text/markdown"]) < 2_000
    assert "49,000 more characters folded" in outputs[1]["text/plain"]


def test_png_and_jpeg_parts_are_images_with_described_fallback(shell: Any) -> None:
    png = figure_bytes("png", 640, 480)
    jpeg = figure_bytes("jpeg", 320, 200)
    outputs, _ = stream(
        [
            types.Part(inline_data=types.Blob(mime_type="image/png", data=png)),
            types.Part(inline_data=types.Blob(mime_type="image/jpeg", data=jpeg)),
        ]
    )
    assert base64.b64decode(outputs[0]["image/png"]) == png
    assert outputs[0]["text/plain"] == f"<image/png 640×480, {len(png) / 1000:.1f} kB>"
    assert base64.b64decode(outputs[1]["image/jpeg"]) == jpeg
    assert outputs[1]["text/plain"].startswith("<image/jpeg 320×200, ")


def test_image_dimensions_of_damaged_data_are_unknown() -> None:
    assert image_dimensions(b"\x89PNG\r\n\x1a\n") is None
    assert image_dimensions(b"\xff\xd8\xff\xe0\x00") is None
    assert image_dimensions(b"not a jpeg") is None


def test_other_inline_data_is_a_named_sized_placeholder(shell: Any) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
    outputs, _ = stream(
        [
            types.Part(
                inline_data=types.Blob(
                    mime_type="image/svg+xml", data=svg, display_name="<b>chart</b>.svg"
                )
            )
        ]
    )
    assert set(outputs[0]) == {"text/markdown", "text/plain"}
    assert outputs[0]["text/plain"] == (
        f"[image/svg+xml “<b>chart</b>.svg”, {len(svg)} B: not displayed]"
    )
    assert dangers(outputs[0]["text/markdown"]) == []
    assert "&lt;b&gt;chart&lt;/b&gt;.svg" in render_html(outputs[0]["text/markdown"])


def test_thoughts_are_hidden_unless_asked_for(shell: Any) -> None:
    parts = [text("Let me think", thought=True), text("The answer"), text(" is 4.")]
    outputs, _ = stream(parts)
    assert outputs == [{"text/markdown": "The answer is 4.", "text/plain": "The answer is 4."}]


def test_thoughts_shown_collapsed_and_escaped(shell: Any) -> None:
    parts = [
        text("**Planning** <img src=x onerror=alert(1)>\n", thought=True),
        text("then [x](javascript:alert(1))", thought=True),
        text("Answer."),
    ]
    outputs, _ = stream(parts, show_thoughts=True)
    assert len(outputs) == 2
    thought = outputs[0]
    assert thought["text/html"].startswith('<details class="gemini-magic-thoughts" ')
    assert "open" not in thought["text/html"].split(">")[0]  # collapsed
    assert ">Thoughts</summary>" in thought["text/html"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in thought["text/html"]
    checker = Dangers()
    checker.feed(thought["text/html"])
    assert checker.found == []
    assert thought["text/plain"].startswith("Thoughts:\n**Planning**")
    assert outputs[1]["text/plain"] == "Answer."


def test_hidden_thoughts_do_not_split_the_text(shell: Any) -> None:
    parts = [text("Part one, "), text("pondering", thought=True), text("part two.")]
    outputs, _ = stream(parts)
    assert [o["text/plain"] for o in outputs] == ["Part one, part two."]


def test_footer_line_and_latency_in_metadata(shell: Any) -> None:
    usage = types.GenerateContentResponseUsageMetadata(
        prompt_token_count=1234, candidates_token_count=56, total_token_count=1340,
        thoughts_token_count=50,
    )  # fmt: skip
    footer = Footer(
        model="gemini-2.5-flash",
        model_version="gemini-2.5-flash-offline-emulator",
        usage=usage,
        offline=True,
        latency_s=1.23456,
        conversation="sales",
    )
    with capture_output() as captured:
        StreamView().finish(footer)
    ((data, metadata),) = final_outputs(captured)
    assert data["text/plain"] == (
        "gemini-2.5-flash · offline emulator · tokens: 1,234 prompt / 56 output / "
        "1,340 total (50 thoughts) · conversation: sales"
    )
    assert "1.23" not in data["text/markdown"] and "1.23" not in data["text/plain"]
    assert metadata["gemini_magic"]["latency_s"] == pytest.approx(1.235)
    assert metadata["gemini_magic"]["model_version"] == "gemini-2.5-flash-offline-emulator"


def test_footer_of_an_online_answer_without_usage(shell: Any) -> None:
    footer = Footer(model="gemini-2.5-pro", model_version=None, usage=None, offline=False,
                    latency_s=0.5)  # fmt: skip
    with capture_output() as captured:
        StreamView().finish(footer)
    ((data, _),) = final_outputs(captured)
    assert data["text/plain"] == "gemini-2.5-pro"
    assert "offline" not in data["text/markdown"]


def test_abort_keeps_what_was_shown_and_marks_it(shell: Any) -> None:
    with capture_output() as captured:
        view = StreamView(update_interval=0)
        view.add(text("The first half"))
        view.add(code("print(1)"))
        view.abort("connection dropped <b>mid-stream</b>")
    outputs = [d for d, _ in final_outputs(captured)]
    assert [o["text/plain"] for o in outputs] == [
        "The first half",
        "Python:\n    print(1)",
        "⚠ Answer incomplete: connection dropped <b>mid-stream</b>",
    ]
    assert dangers(outputs[-1]["text/markdown"]) == []
    assert "<b>" not in render_html(outputs[-1]["text/markdown"])


def test_abort_after_interrupt_says_it_was_not_kept(shell: Any) -> None:
    with capture_output() as captured:
        view = StreamView(update_interval=0)
        view.add(text("Partial"))
        view.abort("KeyboardInterrupt", interrupted=True)
    assert final_outputs(captured)[-1][0]["text/plain"] == (
        "⚠ Interrupted: the answer above is incomplete and was not added to the conversation"
    )


def test_notice_is_a_plain_line_before_the_answer(shell: Any) -> None:
    with capture_output() as captured:
        view = StreamView(update_interval=0)
        view.notice("Sent: sales.csv (1,000 rows × 4 columns, 23.4 kB)")
        view.add(text("Hi"))
    outputs = [d for d, _ in final_outputs(captured)]
    assert outputs[0] == {"text/plain": "Sent: sales.csv (1,000 rows × 4 columns, 23.4 kB)"}
    assert outputs[1]["text/plain"] == "Hi"


def _full_answer() -> list[types.Part]:
    png = figure_bytes("png", 200, 100)
    return [
        text("Let me compute", thought=True),
        text("I'll compute "),
        text("the mean."),
        code("print(df.mean())"),
        result("4.2\n"),
        types.Part(inline_data=types.Blob(mime_type="image/png", data=png)),
        result("boom", "OUTCOME_FAILED"),
        types.Part(inline_data=types.Blob(mime_type="text/csv", data=b"a,b\n1,2\n")),
        text("The mean "),
        text("is 4.2."),
    ]


@pytest.mark.parametrize("show_thoughts", [False, True])
def test_streaming_and_all_at_once_give_the_same_outputs(shell: Any, show_thoughts: bool) -> None:
    parts = _full_answer()
    streamed, _ = stream(parts, show_thoughts=show_thoughts)
    at_once = render_blocks(parts, show_thoughts=show_thoughts)
    assert streamed == [block._repr_mimebundle_()[0] for block in at_once]
    assert len(streamed) == 7 + show_thoughts
    assert all("text/plain" in bundle for bundle in streamed)


def test_unknown_part_kinds_are_named_not_dropped(shell: Any) -> None:
    call = types.Part(function_call=types.FunctionCall(name="lookup", args={}))
    outputs, _ = stream([call, types.Part(thought_signature=b"sig")])
    assert outputs == [
        {
            "text/markdown": "*[function\\_call part: not displayed]*",
            "text/plain": "[function_call part: not displayed]",
        }
    ]


@pytest.mark.parametrize("limits", [{"max_output_lines": 0}, {"max_output_chars": -5}])
def test_limits_below_one_are_refused(limits: dict[str, int]) -> None:
    with pytest.raises(ConfigurationError, match="must be at least 1"):
        StreamView(display=lambda obj, **kw: None, **limits)


@pytest.mark.parametrize(
    "module",
    [
        "display.markdown",
        "display.blocks",
        "display.footer",
        "display.stream",
        "text",
        "answer.response",
    ],
)
def test_importing_the_display_modules_does_not_import_the_sdk(module: str) -> None:
    """The kernel imports them early; the SDK costs about a second to import."""
    import subprocess
    import sys

    probe = f"import sys, gemini_magic.{module}; print('google.genai' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_without_live_updates_each_text_is_written_once_as_it_arrives() -> None:
    """A terminal prints every update anew: there only the new characters are written."""
    events: list[tuple[str, str]] = []

    def show(obj: Any, **kwargs: Any) -> None:
        assert "display_id" not in kwargs  # nothing is ever updated
        events.append(("display", obj._repr_mimebundle_()[0]["text/plain"]))

    view = StreamView(
        live_updates=False, display=show, write=lambda new: events.append(("write", new))
    )
    view.notice("Sent: sales.csv")
    for part in [
        text("The factorial"),
        text(" of 10 is"),
        code("import math\nprint(math.factorial(10))"),
        result("3628800\n"),
        text("So it is "),
        text("3,628,800.\n"),
        text("Done."),
    ]:
        view.add(part)
    view.finish(Footer("gemini-2.5-flash", None, None, True, 0.1))
    assert events == [
        ("display", "Sent: sales.csv"),
        ("write", "The factorial"),
        ("write", " of 10 is"),
        ("write", "\n"),
        ("display", "Python:\n    import math\n    print(math.factorial(10))"),
        ("display", "Output:\n    3628800"),
        ("write", "So it is "),
        ("write", "3,628,800.\n"),
        ("write", "Done."),
        ("write", "\n"),
        ("display", "gemini-2.5-flash · offline emulator"),
    ]
    assert [type(b).__name__ for b in view.blocks][1:4] == [
        "MarkdownText", "CodeBlock", "ExecutionOutput"
    ]  # fmt: skip


def test_without_live_updates_thoughts_and_a_folded_text_are_written_once() -> None:
    written: list[str] = []
    view = StreamView(
        live_updates=False,
        show_thoughts=True,
        max_text_chars=10,
        max_output_chars=5,
        display=lambda obj, **kwargs: None,
        write=written.append,
    )
    for part in [text("Hmm", thought=True), text(" so", thought=True), text("0123456"),
                 text("789abcdef"), text("more")]:  # fmt: skip
        view.add(part)
    view.abort("connection dropped")
    note = view.blocks[1]._plain().split("\n", 1)[1]
    assert written == ["Thoughts:\nHmm", " so", "\n", "0123456", f"789\n{note}", "\n"]


def test_which_shells_render_updates_in_place(shell: Any) -> None:
    from types import SimpleNamespace

    from ipykernel.zmqshell import ZMQDisplayPublisher

    assert supports_live_updates(SimpleNamespace(display_pub=ZMQDisplayPublisher()))
    assert not supports_live_updates(shell)  # terminal IPython's own publisher
    with capture_output():  # records updates, as a notebook applies them
        assert supports_live_updates(shell)
    assert not supports_live_updates(None)


def test_thought_summary_updates_are_coalesced_and_the_last_shown_when_the_text_starts(
    shell: Any,
) -> None:
    with capture_output() as captured:
        view = StreamView(show_thoughts=True, update_interval=60)
        for piece in ["I should ", "load the ", "file ", "first."]:
            view.add(text(piece, thought=True))
        held = len(captured.outputs)
        view.add(text("Here is the answer."))
    assert held == 1  # shown at once, then held back within the interval
    thoughts, _answer = final_outputs(captured)
    assert thoughts[0]["text/plain"] == "Thoughts:\nI should load the file first."
    assert len(captured.outputs) == 3  # the thoughts, their last update, the answer
