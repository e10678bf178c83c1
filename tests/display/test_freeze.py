"""Long answers at O(n): the block splitter (a pure function) and the pieces a text becomes.

The splitter is property-tested: whatever Markdown and however it is chunked, the
finished blocks plus the tail are the text, no block ends inside a fenced code block, a
table, an HTML block or a math block, and making each block safe on its own gives the
very Markdown the whole text gives (so the pieces read as one answer).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from gemini_magic.display.freeze import BlockSplitter, LiveText, TextPiece, split_blocks
from gemini_magic.display.markdown import SafeMarkdown, safe_markdown

# Lines that make Markdown's block structure: fences, tables, HTML blocks, math, lists,
# indented lines, blank lines (with spaces and tabs), and the three line ends.
LINES = st.sampled_from(
    [
        "",
        " ",
        "\t",
        "Some prose with `code` and **bold**.",
        "```python",
        "```",
        "~~~",
        "````",
        "  ```",
        "    ```",
        "| a | b |",
        "|---|---|",
        "| 1 | 2 |",
        "<pre>",
        "</pre>",
        "<!-- note",
        "-->",
        "<script>x</script>",
        "$$",
        "$$ x^2 $$",
        "- item",
        "1. first",
        "    indented code",
        "  continued",
        "> quote",
        "# Heading",
        "x = 1",
        "a < b & c",
    ]
)
ENDS = st.sampled_from(["\n", "\n", "\n", "\r\n", "\r"])
MARKDOWN = st.lists(st.tuples(LINES, ENDS), max_size=40).map(
    lambda pairs: "".join(line + end for line, end in pairs)
) | st.text(alphabet="`~|<>!-$ \t\r\nab", max_size=200)


CONTAINERS = {"fence", "code_block", "table_open", "html_block"}


def chunked(text: str, cuts: list[int]) -> list[str]:
    points = sorted({min(c, len(text)) for c in cuts})
    edges = [0, *points, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(edges)]


def feed_in_chunks(text: str, cuts: list[int]) -> tuple[list[str], str]:
    splitter = BlockSplitter()
    blocks: list[str] = []
    for chunk in chunked(text, cuts):
        blocks += splitter.feed(chunk)
    return blocks, splitter.tail


def lines_of(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


@settings(max_examples=400, deadline=None)
@given(MARKDOWN, st.lists(st.integers(0, 400), max_size=30))
def test_blocks_and_tail_are_the_text_whatever_the_chunks(text: str, cuts: list[int]) -> None:
    blocks, tail = feed_in_chunks(text, cuts)
    assert "".join(blocks) + tail == text
    assert (blocks, tail) == split_blocks(text)
    assert all(blocks)


@settings(max_examples=400, deadline=None)
@given(MARKDOWN)
def test_a_block_ends_only_at_a_blank_line_outside_fences_tables_and_html(text: str) -> None:
    blocks, _ = split_blocks(text)
    done = ""
    for block in blocks:
        done += block
        # The block's last line is blank and the next line starts at the left margin
        # with something (an indented line may belong to a list item above).
        assert lines_of(block)[-2].strip(" \t") == ""
        rest = text[len(done) :]
        assert rest and rest[0] not in " \t\r\n"
        # Outside a fence: SafeMarkdown has none open where the block ends.
        reader = SafeMarkdown()
        reader.feed(done)
        assert reader._fence is None
    # A CommonMark parser finds no fence, indented code, table or HTML block across a cut.
    cuts = {len(lines_of(text[: len("".join(blocks[: i + 1]))])) - 1 for i in range(len(blocks))}
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        if token.type in CONTAINERS and token.map and token.level == 0:
            first, last = token.map
            assert not any(first < cut < last for cut in cuts), (token.type, token.map, cuts)


@settings(max_examples=400, deadline=None)
@given(MARKDOWN)
def test_blocks_made_safe_one_by_one_are_the_whole_text_made_safe(text: str) -> None:
    blocks, tail = split_blocks(text)
    assert "".join(safe_markdown(b) for b in [*blocks, tail]) == safe_markdown(text)


def test_a_long_answer_is_cut_at_its_paragraphs_but_not_inside_its_code() -> None:
    text = (
        "First paragraph.\n\n"
        "```python\nx = 1\n\ny = 2\n```\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "- one\n\n  still one\n- two\n\n"
        "Last, still growing"
    )
    blocks, tail = split_blocks(text)
    assert blocks == [
        "First paragraph.\n\n",
        "```python\nx = 1\n\ny = 2\n```\n\n",
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n",
        "- one\n\n  still one\n- two\n\n",
    ]
    assert tail == "Last, still growing"


class Outputs:
    """The outputs a notebook ends up with, from display calls and handle updates."""

    def __init__(self) -> None:
        self.shown: list[dict[str, str]] = []
        self.messages: list[dict[str, str]] = []

    def display(self, obj: Any, display_id: bool = False) -> Any:
        data = obj._repr_mimebundle_()[0]
        self.shown.append(data)
        self.messages.append(data)
        index = len(self.shown) - 1
        outputs = self

        class Handle:
            def update(self, data: dict[str, str], **kwargs: Any) -> None:
                outputs.shown[index] = data
                outputs.messages.append(data)

        return Handle() if display_id else None


def test_the_first_text_is_shown_at_once_then_updates_are_coalesced() -> None:
    now = [0.0]
    out = Outputs()
    live = LiveText(out.display, interval=0.1, clock=lambda: now[0])
    live.grow("Hello")
    assert out.shown == [{"text/markdown": "Hello", "text/plain": "Hello"}]
    for word in [" there", ",", " friend"]:
        now[0] += 0.01
        live.grow(word)
    assert len(out.messages) == 1  # held back: less than 0.1 s since the last update
    now[0] += 0.1
    live.grow(".")
    assert out.shown[-1]["text/plain"] == "Hello there, friend."
    live.grow(" Bye.")
    live.close()  # the text ended: what was held back is shown at once
    assert out.shown[-1]["text/plain"] == "Hello there, friend. Bye."
    assert len(out.messages) == 3


def test_finished_blocks_are_sent_once_and_the_answer_reads_as_the_whole() -> None:
    now = [0.0]
    out = Outputs()
    live = LiveText(out.display, interval=0.0, clock=lambda: now[0])
    paragraphs = [f"Paragraph {i} " + "word " * 40 + "\n\n" for i in range(30)]
    text = "".join(paragraphs) + "The end."
    for i in range(0, len(text), 7):
        live.grow(text[i : i + 7])
    live.close()
    assert "".join(d["text/plain"] for d in out.shown) == text
    assert "".join(d["text/markdown"] for d in out.shown) == safe_markdown(text)
    assert len(out.shown) == 31
    # Each update re-sends the tail only: far from the whole text on every delta.
    sent = sum(len(d["text/plain"]) for d in out.messages)
    assert sent < len(text) * 40
    whole_each_time = sum(len(text[: i + 7]) for i in range(0, len(text), 7))
    assert sent < whole_each_time / 10


def test_a_folded_text_shows_its_note_after_the_tail() -> None:
    piece = TextPiece("abc", note="… folded")
    assert piece._repr_mimebundle_()[0] == {
        "text/markdown": "abc\n\n*… folded*",
        "text/plain": "abc\n… folded",
    }


@settings(max_examples=300, deadline=None)
@given(MARKDOWN, st.lists(st.integers(0, 400), max_size=30), st.lists(st.floats(0, 0.3)))
def test_the_outputs_of_any_stream_read_as_the_whole_text(
    text: str, cuts: list[int], pauses: list[float]
) -> None:
    """Whatever the chunks and their timing, the final outputs are the text, once."""
    now = [0.0]
    out = Outputs()
    live = LiveText(out.display, interval=0.1, clock=lambda: now[0])
    for index, chunk in enumerate(c for c in chunked(text, cuts) if c):
        now[0] += pauses[index % len(pauses)] if pauses else 0.05
        live.grow(chunk)
    live.close()
    assert "".join(d["text/plain"] for d in out.shown) == text
    assert "".join(d["text/markdown"] for d in out.shown) == safe_markdown(text)
