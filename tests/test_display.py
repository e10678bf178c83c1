"""The streamed display of an answer, as a notebook user would see it.

Displays go through a real in-process IPython shell; the captured publications
(display, then in-place updates by display id) are folded into the outputs a
notebook would end up showing.  Hostile Markdown is rendered with mistune (the
renderer nbconvert uses) to check that nothing executable comes out.
"""

from __future__ import annotations

import base64
import html
import io
import random
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from google.genai import types
from IPython import get_ipython
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output

from gemini_magic.display import (
    Footer,
    SafeMarkdown,
    StreamView,
    image_dimensions,
    render_parts,
    safe_markdown,
)
from gemini_magic.errors import ConfigurationError


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
        view = StreamView(**options)
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


class _Dangers(HTMLParser):
    """Collects anything in rendered HTML that a browser could execute."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "style", "svg", "math", "form"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            target = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if name in ("href", "src", "action", "formaction", "xlink:href") and (
                target.startswith(("javascript:", "vbscript:", "data:"))
            ):
                self.found.append(f"{tag} {name}={value}")


def _renderers() -> list[Any]:
    """Markdown-to-HTML converters that behave like a trusting front end.

    JupyterLab renders Markdown outputs of the live session with raw HTML kept and link
    targets unchecked.  markdown-it-py follows CommonMark (as JupyterLab's renderer
    does); mistune is what nbconvert uses.  Both check link targets themselves, so that
    is switched off here to test our own escaping.
    """
    found = []
    try:
        from markdown_it import MarkdownIt
    except ImportError:
        pass
    else:
        markdown_it = MarkdownIt("commonmark").enable(["table", "strikethrough"])
        markdown_it.validateLink = lambda url: True
        found.append(markdown_it.render)
    try:
        import mistune
    except ImportError:
        pass
    else:

        class Trusting(mistune.HTMLRenderer):
            def safe_url(self, url: str) -> str:
                return html.escape(url)

            sanitize_url = safe_url

        found.append(
            mistune.create_markdown(
                escape=False, renderer=Trusting(escape=False), plugins=["table", "strikethrough"]
            )
        )
    if not found:
        pytest.skip("needs markdown-it-py or mistune to render Markdown")
    return found


def render_html(markdown: str) -> str:
    return _renderers()[0](markdown)


def dangers(markdown: str) -> list[str]:
    """What any of the renderers would produce that a browser could execute."""
    found = []
    for render in _renderers():
        parser = _Dangers()
        parser.feed(render(markdown))
        found.extend(parser.found)
    return found


HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "text <img src=x onerror=alert(1)> text",
    "<svg onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "[click me](javascript:alert(1))",
    "[click me]( JaVaScRiPt:alert(1))",
    "[click me](javascript\\:alert(1))",
    "[click me](<javascript:alert(1)>)",
    "[click me](java&#115;cript:alert(1))",
    "[click me](&#106;avascript:alert(1))",
    "[click me](vbscript:msgbox(1))",
    "![pic](data:text/html;base64,PHNjcmlwdD4=)",
    "[ref]: javascript:alert(1)\n\n[click][ref]",
    "[ref]:\njavascript:alert(1)\n\n[click][ref]",
    "[click](\njavascript:alert(1))",
    "<javascript:alert(1)>",
    "\\`<img src=x onerror=alert(1)>`",
    "`code` <img src=x onerror=alert(1)> `code`",
    "| a | b |\n|---|---|\n| `x | <img src=x onerror=alert(1)> | y` |",
    "| a | b |\n|---|---|\n| `x | [c](javascript:alert(1)) | y` |",
    "1. step\n   ```\n<img src=x onerror=alert(1)>\n   ```",
    "- item\n  ```\n<img src=x onerror=alert(1)>\n",
    "1. step\n   ```\n      ```\n   <img src=x onerror=alert(1)>",
    "- item\n  ```\n  code\n```\n<b>x</b>\n```\n<img src=x onerror=alert(1)>",
    "    ```\n<img src=x onerror=alert(1)>\n```",
    "```\ncode\n    ```\n```\n<img src=x onerror=alert(1)>",
    "> ```\n<img src=x onerror=alert(1)>",
    "~~~\n<b>in fence</b>\n~~~\n<img src=x onerror=alert(1)>",
    "``` `not a fence\n<img src=x onerror=alert(1)>",
    "<!-- comment --><script>alert(1)</script>",
    "`| a | b |\n|---|---|\n```[a](javascript:alert(1))| a | b |\n|---|---|\n <$ \rjavascript:",
    "[r]: /url '\n```\n'\n<img src=x onerror=alert(1)>\n```",
    "```\r\ncode\r\n```\r\n<img src=x onerror=alert(1)>",
    "```\rcode\r```\r<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_markdown_renders_nothing_executable(hostile: str) -> None:
    assert dangers(hostile), "the sample must be dangerous without escaping"
    assert dangers(safe_markdown(hostile)) == []


_FRAGMENTS = [
    "```", "~~~", "````", "```python", " ", "   ", "    ", "\t", "\n", "\n\n", "- ", "1. ",
    "> ", "`", "``", "\\", "\\`", "<img src=x onerror=alert(1)>", "<script>alert(1)</script>",
    "[a](javascript:alert(1))", "[r]: javascript:x\n\n[q][r]", "text", "|",
    "| a | b |\n|---|---|\n", "*", "<", "&", "&#106;", "](", "javascript:", "\r", "\r\n",
    "$$", "'",
]  # fmt: skip


def test_random_mixtures_of_markdown_and_hostile_fragments_stay_harmless() -> None:
    """Fences, lists, tables and quotes mixed at random: no renderer finds markup."""
    rng = random.Random(20260101)
    for _ in range(400):
        sample = "".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(2, 14)))
        assert dangers(safe_markdown(sample)) == [], sample


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_streamed_in_small_chunks_stays_harmless(shell: Any, hostile: str) -> None:
    chunks = [text(hostile[i : i + 3]) for i in range(0, len(hostile), 3)]
    with capture_output() as captured:
        view = StreamView()
        for chunk in chunks:
            view.add(chunk)
    for rich in captured.outputs:  # every intermediate state the front end rendered
        assert dangers(rich.data["text/markdown"]) == []
    (data,) = [d for d, _ in final_outputs(captured)]
    assert data["text/plain"] == hostile


class _Blocks(HTMLParser):
    """The text of each <pre><code> block of rendered HTML, with its class."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[tuple[str | None, str]] = []
        self._in_pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            self._in_pre = True
        elif tag == "code" and self._in_pre:
            self.blocks.append((dict(attrs).get("class"), ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._in_pre = False

    def handle_data(self, data: str) -> None:
        if self._in_pre and self.blocks:
            css, text = self.blocks[-1]
            self.blocks[-1] = (css, text + data)


def code_blocks(rendered: str) -> list[tuple[str | None, str]]:
    parser = _Blocks()
    parser.feed(rendered)
    return parser.blocks


def test_escaped_markdown_still_renders_as_markdown() -> None:
    source = (
        "## Result\n\nThe **mean** is `df[df.x < 3].mean()` and a < b & c.\n\n"
        "- one\n- two\n\n[docs](https://example.org/a?b=1&c=2)\n\n"
        "```python\nif a < b and x && y:\n    print('<b>')\n```\n"
    )
    prose = (
        "<h2>Result</h2>\n"
        "<p>The <strong>mean</strong> is <code>df[df.x &lt; 3].mean()</code>"
        " and a &lt; b &amp; c.</p>\n"
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        '<p><a href="https://example.org/a?b=1&amp;c=2">docs</a></p>\n'
    )
    for render in _renderers():
        rendered = render(safe_markdown(source))
        assert rendered.startswith(prose)
        assert code_blocks(rendered) == [
            ("language-python", "if a < b and x && y:\n    print('<b>')\n")
        ]


def test_fenced_code_that_cannot_form_markup_stays_a_fence() -> None:
    """So that the front end highlights it as it would the model's own fence."""
    source = "Filter:\n\n```python\nsmall = df[(df.x < 3) & (df.y <= 2)]\n```\n"
    assert safe_markdown(source) == source


def test_link_targets_split_between_fence_info_and_content_are_neutralised() -> None:
    """A renderer that reads the fence as prose (a table row, say) would join them."""
    assert safe_markdown("```[a](\njavascript:alert(1))\n```") == (
        "```[a](\nunsafe:javascript:alert(1))\n```"
    )


def test_unclosed_fence_in_streamed_text_keeps_code_literal() -> None:
    for render in _renderers():
        rendered = render(safe_markdown("Here:\n```python\nprint('<b>bold</b>')"))
        assert code_blocks(rendered) == [("language-python", "print('<b>bold</b>')\n")]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_incremental_escaping_matches_whole_text_for_every_split(hostile: str) -> None:
    whole = safe_markdown(hostile)
    for cut in range(len(hostile) + 1):
        converter = SafeMarkdown()
        converter.feed(hostile[:cut])
        converter.feed(hostile[cut:])
        assert converter.markdown() == whole


def test_streamed_text_is_one_output_updated_in_place(shell: Any) -> None:
    chunks = ["The average ", "price is **42**", " euros.\n\nSecond ", "paragraph."]
    with capture_output() as captured:
        view = StreamView()
        view.add(text(chunks[0]))
        first_shown = [dict(rich.data) for rich in captured.outputs]
        for chunk in chunks[1:]:
            view.add(text(chunk))
    assert first_shown == [{"text/markdown": "The average ", "text/plain": "The average "}]
    publications = captured.outputs
    display_id = publications[0].transient["display_id"]
    assert not publications[0].update
    assert all(p.update and p.transient["display_id"] == display_id for p in publications[1:])
    assert len(publications) == len(chunks)
    (data,) = [d for d, _ in final_outputs(captured)]
    assert data["text/markdown"] == "".join(chunks)
    assert data["text/plain"] == "".join(chunks)


def test_each_chunk_republishes_only_the_growing_output(shell: Any) -> None:
    parts = [text("Look:"), code("print(1)"), result("1\n"), text("So "), text("one.")]
    _, captured = stream(parts)
    kinds = [
        (p.update, "text/markdown" in p.data and p.data["text/plain"]) for p in captured.outputs
    ]
    assert kinds == [
        (False, "Look:"),
        (False, "print(1)"),
        (False, "1"),
        (False, "So "),
        (True, "So one."),
    ]


def test_code_is_a_highlighted_python_block_with_plain_fallback(shell: Any) -> None:
    outputs, _ = stream([code("import pandas as pd\nprint(pd.__version__)\n")])
    assert outputs == [
        {
            "text/markdown": "```python\nimport pandas as pd\nprint(pd.__version__)\n```",
            "text/plain": "import pandas as pd\nprint(pd.__version__)",
        }
    ]


def test_code_containing_backticks_gets_a_longer_fence(shell: Any) -> None:
    source = 's = """\n```\ninner\n```\n"""\nprint("<script>alert(1)</script>")'
    ((data, *_),) = [stream([code(source)])[0]]
    assert data["text/markdown"].startswith("````python\n")
    rendered = render_html(data["text/markdown"])
    assert rendered.count("<pre>") == 1
    assert "&lt;script&gt;" in rendered and "<script>" not in rendered
    assert code_blocks(rendered)[0][1].startswith('s = """\n```\ninner\n```\n"""')


@pytest.mark.parametrize(
    ("outcome", "heading"),
    [
        ("OUTCOME_FAILED", "⚠ Execution failed (OUTCOME_FAILED)"),
        ("OUTCOME_DEADLINE_EXCEEDED", "⚠ Execution timed out (30 s limit)"),
    ],
)
def test_failed_executions_are_marked(shell: Any, outcome: str, heading: str) -> None:
    ((data,),) = [stream([result("Traceback...\nZeroDivisionError", outcome)])[0]]
    assert data["text/plain"] == f"{heading}\nTraceback...\nZeroDivisionError"
    rendered = render_html(data["text/markdown"])
    assert rendered.startswith(f"<p><strong>{heading}</strong></p>\n<pre><code>Traceback")


def test_successful_execution_is_plain_preformatted_output(shell: Any) -> None:
    outputs, _ = stream([result("mean    4.2\n<b>not bold</b>\n"), result("")])
    assert outputs[0]["text/plain"] == "mean    4.2\n<b>not bold</b>"
    assert "failed" not in outputs[0]["text/markdown"].lower()
    rendered = render_html(outputs[0]["text/markdown"])
    assert code_blocks(rendered) == [(None, "mean    4.2\n<b>not bold</b>\n")]
    assert outputs[1]["text/plain"] == "(no output)"


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
    assert image_dimensions("image/png", b"\x89PNG\r\n\x1a\n") is None
    assert image_dimensions("image/jpeg", b"\xff\xd8\xff\xe0\x00") is None
    assert image_dimensions("image/jpeg", b"not a jpeg") is None


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
    assert thought["text/html"].startswith("<details><summary>Thoughts</summary>")
    assert "&lt;img src=x onerror=alert(1)&gt;" in thought["text/html"]
    checker = _Dangers()
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
        view = StreamView()
        view.add(text("The first half"))
        view.add(code("print(1)"))
        view.abort("connection dropped <b>mid-stream</b>")
    outputs = [d for d, _ in final_outputs(captured)]
    assert [o["text/plain"] for o in outputs] == [
        "The first half",
        "print(1)",
        "⚠ Answer incomplete: connection dropped <b>mid-stream</b>",
    ]
    assert dangers(outputs[-1]["text/markdown"]) == []
    assert "<b>" not in render_html(outputs[-1]["text/markdown"])


def test_abort_after_interrupt_says_it_was_not_kept(shell: Any) -> None:
    with capture_output() as captured:
        view = StreamView()
        view.add(text("Partial"))
        view.abort("KeyboardInterrupt", interrupted=True)
    assert final_outputs(captured)[-1][0]["text/plain"] == (
        "⚠ Interrupted: the answer above is incomplete and was not added to the conversation"
    )


def test_notice_is_a_plain_line_before_the_answer(shell: Any) -> None:
    with capture_output() as captured:
        view = StreamView()
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
    assert streamed == render_parts(parts, show_thoughts=show_thoughts)
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


def test_importing_display_does_not_import_the_sdk() -> None:
    import subprocess
    import sys

    probe = "import sys, gemini_magic.display; print('google.genai' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
