"""Generated Markdown and HTML, as an untrusted model may write it, made safe to display.

Random mixtures of Markdown structure (fences nested and unclosed, lists, tables, quotes,
code spans, link definitions) and hostile markup (script tags, event handlers,
``javascript:``/``vbscript:``/``data:`` targets, SVG, entities), streamed in random
chunks: neither CommonMark (JupyterLab's renderer) nor mistune (nbconvert's) finds
anything executable in what we display.  The grounding sanitiser's HTML likewise.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gemini_magic.display.grounding import sanitize_html
from gemini_magic.display.markdown import SafeMarkdown, safe_markdown
from tests.helpers.markdown import HOSTILE, Dangers, dangers

pytestmark = pytest.mark.properties

_FRAGMENTS = st.sampled_from(
    [
        *HOSTILE,
        "```", "~~~", "````", "```python", "``` `x", " ", "   ", "    ", "\t", "\n", "\n\n",
        "- ", "1. ", "> ", ">> ", "`", "``", "\\", "\\`", "text", "|", "| a | b |\n|---|---|\n",
        "*", "_", "<", ">", "&", "&#106;", "&#x6A;", "&lt;", "&amp;lt;", "](", "]: ", "[a]",
        "(", ")", "javascript:", "JAVASCRIPT:", "data:", "vbscript:", "java\nscript:", "\r",
        "\r\n", "$$", "$", "'", '"', "<svg>", "<math>", "<style>", "<iframe src=x>",
        "<a href=", "onerror=", " onload=alert(1)", "<!--", "-->", "<![CDATA[", "]]>",
        "<img", "src=x", "/>", "<b>", "</b>", "<details>", "<object data=x>", "\x00",
        "\u200b", "&#0;", "<scr<script>ipt>", "<<script>>", "[x]: <javascript:a>",
    ]
)  # fmt: skip
_MARKDOWN = st.lists(st.one_of(_FRAGMENTS, st.text(max_size=5)), min_size=1, max_size=14).map(
    "".join
)


@given(_MARKDOWN, st.lists(st.integers(0, 200), max_size=4))
def test_random_markdown_streamed_in_any_chunks_displays_nothing_executable(
    text: str, cuts: list[int]
) -> None:
    assert dangers(safe_markdown(text)) == []
    streamed = SafeMarkdown()
    at = 0
    for cut in sorted(c % (len(text) + 1) for c in cuts):
        streamed.feed(text[at:cut])
        at = cut
    streamed.feed(text[at:])
    assert streamed.markdown() == safe_markdown(text)


_HTML = st.lists(
    st.one_of(
        _FRAGMENTS,
        st.sampled_from(
            [
                "<a href='javascript:alert(1)'>",
                '<a href="https://example.org">',
                "</a>",
                "<span style='background:url(javascript:x)'>",
                "<div class=x>",
                "</div>",
                "<img src=data:image/png;base64,AAAA>",
                "<svg><a xlink:href=javascript:x>",
                "<form action=javascript:x>",
                "<button formaction=javascript:x>",
                "<a href=' jav&#x09;ascript:x'>",
                "<a href=&#106;avascript:x>",
                "<p onclick=x>",
            ]
        ),
    ),
    max_size=10,
).map("".join)


@given(_HTML)
def test_sanitized_html_holds_nothing_executable(text: str) -> None:
    parser = Dangers()
    parser.feed(sanitize_html(text))
    parser.close()
    # <svg> and <style> are allowed on purpose (Google's search chips are drawn with
    # them), with their attributes and CSS checked; nothing else may be found.
    assert [found for found in parser.found if found not in ("<svg>", "<style>")] == []
