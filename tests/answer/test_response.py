"""The answer as an object: what a user reads off ``_gemini`` and how it shows itself."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import pytest
from google.genai import types
from IPython import get_ipython
from IPython.testing.globalipapp import start_ipython

from gemini_magic.answer.response import ExecutionResult, GeminiResponse
from tests.helpers.markdown import code_blocks, dangers, render_html


def png_bytes(width_px: int, height_px: int) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_px / 100, height_px / 100), dpi=100)
    fig.add_subplot().bar(["a", "b"], [3, 5])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


PNG = png_bytes(640, 480)


def answer(**overrides: Any) -> GeminiResponse:
    parts = [
        types.Part(text="**Planning** the mean", thought=True, thought_signature=b"sig"),
        types.Part(text="I'll compute the mean of `price`.\n"),
        types.Part(
            executable_code=types.ExecutableCode(
                code="print(df.price.mean())\nplt.plot(df.price)\n", language="PYTHON"
            )
        ),
        types.Part(
            code_execution_result=types.CodeExecutionResult(outcome="OUTCOME_OK", output="4.2\n")
        ),
        types.Part(inline_data=types.Blob(mime_type="image/png", data=PNG)),
        types.Part(
            code_execution_result=types.CodeExecutionResult(
                outcome="OUTCOME_FAILED", output="NameError: name 'x' is not defined"
            )
        ),
        types.Part(inline_data=types.Blob(mime_type="text/csv", data=b"a,b\n1,2\n")),
        types.Part(text="The mean price is **4.2** <script>alert(1)</script>."),
    ]
    fields: dict[str, Any] = {
        "prompt": "What is the mean price of {df}?",
        "parts": parts,
        "model": "gemini-2.5-flash",
        "model_version": "gemini-2.5-flash-offline-emulator",
        "usage": types.GenerateContentResponseUsageMetadata(
            prompt_token_count=100, candidates_token_count=20, total_token_count=120
        ),
        "offline": True,
        "latency_s": 0.75,
        "conversation": "default",
        "finish_reason": "STOP",
    }
    fields.update(overrides)
    return GeminiResponse(**fields)


def test_properties_read_the_answer_without_the_thoughts() -> None:
    response = answer()
    assert response.text == (
        "I'll compute the mean of `price`.\n\nThe mean price is **4.2** <script>alert(1)</script>."
    )
    assert response.thoughts == "**Planning** the mean"
    assert response.code == ["print(df.price.mean())\nplt.plot(df.price)\n"]
    assert response.results == [
        ExecutionResult("OUTCOME_OK", "4.2\n"),
        ExecutionResult("OUTCOME_FAILED", "NameError: name 'x' is not defined"),
    ]
    assert [r.ok for r in response.results] == [True, False]


def test_images_are_objects_with_bytes_that_display_as_png() -> None:
    (image,) = answer().images
    assert image.mime_type == "image/png"
    assert image.data == PNG
    assert image.dimensions == (640, 480)
    data, _ = image._repr_mimebundle_()
    assert set(data) == {"image/png", "text/plain"}
    assert base64.b64decode(data["image/png"]) == PNG


def test_to_markdown_for_the_export() -> None:
    assert answer().to_markdown() == (
        "I'll compute the mean of `price`.\n\n"
        "```python\nprint(df.price.mean())\nplt.plot(df.price)\n```\n\n"
        "```\n4.2\n```\n\n"
        "[image/png 640×480]\n\n"
        "Execution failed (OUTCOME_FAILED)\n\n"
        "```\nNameError: name 'x' is not defined\n```\n\n"
        "[text/csv, 8 B]\n\n"
        "The mean price is **4.2** <script>alert(1)</script>."
    )


def test_to_markdown_of_a_run_without_output() -> None:
    response = answer(
        parts=[
            types.Part(
                code_execution_result=types.CodeExecutionResult(outcome="OUTCOME_OK", output="")
            ),
            types.Part(
                code_execution_result=types.CodeExecutionResult(
                    outcome="OUTCOME_DEADLINE_EXCEEDED", output=""
                )
            ),
        ]
    )
    assert response.to_markdown() == (
        "(no output)\n\nExecution timed out (30 s limit)\n\n(no output)"
    )


def test_to_markdown_fences_code_that_contains_fences() -> None:
    code = 'doc = """\n```\nx\n```\n"""'
    response = answer(
        parts=[types.Part(executable_code=types.ExecutableCode(code=code, language="PYTHON"))]
    )
    assert response.to_markdown() == f"````python\n{code}\n````"


def test_shown_again_as_one_safe_markdown_document() -> None:
    start_ipython()  # a no-op when another test module started it
    shell = get_ipython()
    data, metadata = shell.display_formatter.format(answer())
    markdown = data["text/markdown"]
    assert markdown.startswith("I'll compute the mean of <code>price</code>.\n\n<div ")
    assert "```python\nprint(df.price.mean())" in markdown
    assert "```\n4.2\n```" in markdown
    assert f"![image/png 640×480, {len(PNG) / 1000:.1f} kB](data:image/png;base64," in markdown
    assert base64.b64encode(PNG).decode() in markdown
    rendered = html.unescape(render_html(markdown))
    assert ">Python</div>" in rendered and ">Output</div>" in rendered
    assert ">Output (failed: OUTCOME_FAILED)</div>" in rendered
    assert "&lt;script>" in markdown and "<script>" not in markdown
    assert "Planning" not in markdown
    footer = "gemini-2.5-flash · offline emulator · tokens: 100 prompt / 20 output / 120 total"
    assert markdown.endswith(f"*{footer}*")
    plain = data["text/plain"]
    assert plain.startswith(
        "I'll compute the mean of `price`.\n\nPython:\n    print(df.price.mean())"
    )
    assert "Output (failed: OUTCOME_FAILED):\n" in plain
    assert "<image/png 640×480" in plain
    assert plain.endswith(footer)
    assert metadata["gemini_magic"]["latency_s"] == pytest.approx(0.75)


def test_an_unclosed_fence_in_the_text_does_not_swallow_what_follows() -> None:
    response = answer(
        parts=[
            types.Part(text="Here is code:\n```python\nx = 1"),
            types.Part(executable_code=types.ExecutableCode(code="y = 2", language="PYTHON")),
        ]
    )
    data, _ = response._repr_mimebundle_()
    markdown = data["text/markdown"]
    assert markdown.startswith("Here is code:\n```python\nx = 1\n```\n\n<div ")
    assert "\n\n```python\ny = 2\n```\n\n</div>" in markdown
    assert code_blocks(render_html(markdown)) == [
        ("language-python", "x = 1\n"),
        ("language-python", "y = 2\n"),
    ]


def test_code_after_a_misleading_fence_in_the_text_stays_harmless() -> None:
    # CommonMark ends the list item's fence at the unindented ``` and opens a new fence
    # there, so a renderer is inside a fence when the code part begins: code that
    # contains a fence must not be able to close it and inject markup.
    code = 's = """\n```\n<img src=x onerror=alert(1)>\n"""'
    response = answer(
        parts=[
            types.Part(text="- item\n  ```\n  code\n```"),
            types.Part(executable_code=types.ExecutableCode(code=code, language="PYTHON")),
        ]
    )
    data, _ = response._repr_mimebundle_()
    assert dangers(data["text/markdown"]) == []


def test_short_repr() -> None:
    assert repr(answer()) == (
        '<GeminiResponse gemini-2.5-flash offline: "I\'ll compute the mean of `price`. The m…" '
        "(1 code, 2 results, 1 image)>"
    )
    online = answer(offline=False, parts=[types.Part(text="Hi")])
    assert repr(online) == "<GeminiResponse gemini-2.5-flash: 'Hi'>"
