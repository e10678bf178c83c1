"""Rendering Markdown the way front ends do, to check that nothing executable comes out.

Shared by the tests of the safe Markdown, of the streamed display and of the response
object.  Hostile Markdown is rendered with markdown-it-py (CommonMark, as JupyterLab's
renderer) and mistune (the renderer nbconvert uses).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest


class Dangers(HTMLParser):
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


def renderers() -> list[Any]:
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
    return renderers()[0](markdown)


def dangers(markdown: str) -> list[str]:
    """What any of the renderers would produce that a browser could execute."""
    found = []
    for render in renderers():
        parser = Dangers()
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


@dataclass
class Box:
    """One labelled box we built (code, output): its classes, label and code blocks."""

    classes: str
    label: str = ""
    style: str = ""
    label_style: str = ""
    blocks: list[tuple[str | None, str]] = field(default_factory=list)


class _Boxes(HTMLParser):
    """The ``gemini-magic-*`` boxes of rendered HTML, with what each one holds."""

    def __init__(self) -> None:
        super().__init__()
        self.boxes: list[Box] = []
        self._depth = 0  # <div> nesting inside the current box
        self._in_label = False
        self._code = _Blocks()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = found.get("class") or ""
        if tag == "div" and self._depth:
            self._depth += 1
            if classes == "gemini-magic-label":
                self._in_label = True
                self.boxes[-1].label_style = found.get("style") or ""
        elif tag == "div" and classes.startswith("gemini-magic-"):
            self.boxes.append(Box(classes, style=found.get("style") or ""))
            self._depth = 1
            self._code = _Blocks()
        elif self._depth:
            self._code.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._depth:
            self._depth -= 1
            self._in_label = False
            if not self._depth:
                self.boxes[-1].blocks = self._code.blocks
        elif self._depth:
            self._code.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self._in_label:
            self.boxes[-1].label += data
        elif self._depth:
            self._code.handle_data(data)


def boxes(rendered: str) -> list[Box]:
    """The labelled boxes of rendered HTML (entities decoded, as a browser shows them)."""
    parser = _Boxes()
    parser.feed(rendered)
    parser.close()
    return parser.boxes
