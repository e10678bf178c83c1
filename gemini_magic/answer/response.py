"""The answer to one prompt as a Python object (``_gemini``, or ``-o name``).

Users asked to get the answer back as data rather than only as pixels: the text, the
code the model ran, what that code printed and the figures it drew.  The object also
shows itself again, with the same renderers as the streamed display, when it is the
last expression of a cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from gemini_magic.answer.binding import Binding
from gemini_magic.answer.runnable import runnable_code
from gemini_magic.api.sdk import types
from gemini_magic.api.search import Grounding
from gemini_magic.display.blocks import (
    InlineDataPlaceholder,
    InlineImage,
    MimeBundle,
    inline_data_block,
)
from gemini_magic.display.execution import outcome_heading
from gemini_magic.display.footer import Footer, FooterLine
from gemini_magic.display.markdown import fenced
from gemini_magic.display.stream import render_blocks
from gemini_magic.text import OUTCOME_OK, outcome_name


class ExecutionResult(NamedTuple):
    """One run of the model's code: ``outcome`` (``"OUTCOME_OK"``, ...) and its output."""

    outcome: str
    output: str

    @property
    def ok(self) -> bool:
        return self.outcome == OUTCOME_OK


@dataclass
class GeminiResponse:
    """One answer: the merged model turn plus what is known about how it was made.

    ``parts`` is the model's turn as ``google.genai.types.Part`` objects (adjacent
    streamed text already joined); the properties read it without the SDK's
    ``response.text``, which warns on code-execution parts.  ``bindings`` say which live
    object each file attached to the prompt stood for, so the code can run here
    (``runnable_code``, ``%gemini run``).
    """

    prompt: str
    parts: list[types.Part]
    model: str
    model_version: str | None = None
    usage: types.GenerateContentResponseUsageMetadata | None = None
    offline: bool = False
    latency_s: float = 0.0
    conversation: str = "default"
    finish_reason: str | None = None
    #: What the model searched for and its sources (``--search``); empty otherwise.
    grounding: Grounding | None = None
    bindings: tuple[Binding, ...] = ()

    def _answer_parts(self) -> Iterable[types.Part]:
        return (part for part in self.parts if not part.thought)

    @property
    def text(self) -> str:
        """The answer's text (thought summaries left out).

        Text runs that code or results stand between are separate paragraphs, so they
        are joined with a blank line rather than run together.
        """
        runs = [part.text.strip() for part in self._answer_parts() if part.text]
        return "\n\n".join(run for run in runs if run)

    @property
    def thoughts(self) -> str:
        """The thought summaries, if the model sent any (``--thoughts``)."""
        return "".join(part.text or "" for part in self.parts if part.thought)

    @property
    def code(self) -> list[str]:
        """Every piece of code the model ran, in order."""
        return [
            part.executable_code.code or ""
            for part in self._answer_parts()
            if part.executable_code is not None
        ]

    @property
    def runnable_code(self) -> str | None:
        """The code as ``%gemini run`` runs it here: every read of an attached file bound to
        the live object, a header saying what is bound to what (None: the answer has no
        code).  ``-x`` inserts it; it is here too for front ends that ignore that."""
        return runnable_code(self.parts, self.bindings)

    @property
    def results(self) -> list[ExecutionResult]:
        """What each run of the code printed, with its outcome."""
        return [
            ExecutionResult(
                outcome_name(part.code_execution_result.outcome),
                part.code_execution_result.output or "",
            )
            for part in self._answer_parts()
            if part.code_execution_result is not None
        ]

    @property
    def images(self) -> list[InlineImage]:
        """The PNG/JPEG images of the answer (Matplotlib figures), each displayable."""
        images = []
        for part in self._answer_parts():
            if part.inline_data is not None:
                block = inline_data_block(part.inline_data)
                if isinstance(block, InlineImage):
                    images.append(block)
        return images

    def to_markdown(self) -> str:
        """The answer as Markdown for an export: text as is, code and output fenced."""
        return answer_markdown(self.parts)

    @property
    def footer(self) -> Footer:
        """What the answer's last line says: model, usage, offline label, latency."""
        return Footer(
            model=self.model,
            model_version=self.model_version,
            usage=self.usage,
            offline=self.offline,
            latency_s=self.latency_s,
            conversation=self.conversation,
        )

    def _footer(self) -> FooterLine:
        return FooterLine(self.footer)

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> MimeBundle:
        """The whole answer as one Markdown document, rendered as it was streamed."""
        blocks = [*render_blocks(self.parts), self._footer()]
        markdown = "\n\n".join(block._document_markdown().rstrip("\n") for block in blocks)
        plain = "\n\n".join(block._plain().rstrip("\n") for block in blocks)
        return {"text/markdown": markdown, "text/plain": plain}, blocks[-1].metadata()

    def __repr__(self) -> str:
        text = " ".join(self.text.split())
        preview = text if len(text) <= 40 else text[:39] + "…"
        counts = [
            f"{len(items)} {name}"
            for name, items in (("code", self.code), ("results", self.results))
            if items
        ]
        images = len(self.images)
        if images:
            counts.append(f"{images} image{'s' if images > 1 else ''}")
        offline = " offline" if self.offline else ""
        extra = f" ({', '.join(counts)})" if counts else ""
        return f"<GeminiResponse {self.model}{offline}: {preview!r}{extra}>"


def answer_markdown(parts: Iterable[types.Part]) -> str:
    """A model turn as Markdown (exports, ``%gemini history``): text as is, code and
    output fenced, media as short notes; thought summaries left out."""
    sections: list[str] = []
    text: list[str] = []
    for part in (part for part in parts if not part.thought):
        if part.text is not None:
            text.append(part.text)
            continue
        if text:
            sections.append("".join(text))
            text = []
        if part.executable_code is not None:
            sections.append(fenced(part.executable_code.code or "", "python"))
        elif part.code_execution_result is not None:
            outcome = outcome_name(part.code_execution_result.outcome)
            printed = part.code_execution_result.output or ""
            output = fenced(printed) if printed.strip() else "(no output)"
            heading = outcome_heading(outcome)
            sections.append(f"{heading}\n\n{output}" if heading else output)
        elif part.inline_data is not None:
            block = inline_data_block(part.inline_data)
            if isinstance(block, InlineDataPlaceholder):
                sections.append(f"[{block.describe()}]")
            else:
                sections.append(f"[{block.describe(with_size=False)}]")
    if text:
        sections.append("".join(text))
    return "\n\n".join(section.strip("\n") for section in sections if section.strip())
