"""The model's Markdown made safe: nothing a browser could run survives any renderer."""

from __future__ import annotations

import random

import pytest

from gemini_magic.display.markdown import SafeMarkdown, fenced, safe_markdown
from tests.helpers.markdown import HOSTILE, code_blocks, dangers, renderers


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
    for render in renderers():
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
    for render in renderers():
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


def test_fenced_output_cannot_leave_its_fence() -> None:
    source = "```\n<img src=x onerror=alert(1)>\n````"
    block = fenced(source + "\n\n", "python")
    assert block.startswith("`````python\n") and block.endswith("\n````\n`````")
    for render in renderers():
        assert code_blocks(render(block)) == [("language-python", source + "\n")]
        assert dangers(render(block)) == []


def test_fenced_inside_a_document_is_harmless_read_as_prose() -> None:
    """Where an earlier part may have left the renderer mid-list, the text is escaped."""
    assert fenced("print(1)", "python", in_document=True) == "```python\nprint(1)\n```"
    escaped = fenced("<b>x</b>", "python", in_document=True)
    assert escaped.startswith('<pre><code class="language-python">&#60;b')
    assert dangers("- item\n  ```\n" + escaped) == []
