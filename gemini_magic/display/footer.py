"""The last line of an answer: model, token usage, the offline label.

The latency changes from run to run, so it goes in the output's metadata and stays out
of the text: stored notebooks then compare equal under nbval, which never compares
metadata.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gemini_magic.display.blocks import Block, MimeBundle
from gemini_magic.display.markdown import markdown_literal

#: The label of an answer from the offline emulator, in the footer.
OFFLINE_LABEL = "offline emulator"


@dataclass(frozen=True)
class Footer:
    """What the last line of an answer says (and what its metadata carries)."""

    model: str
    model_version: str | None
    usage: Any | None
    offline: bool
    latency_s: float
    conversation: str = "default"
    #: Interactions the answer took past the decode limit (each re-billed the input).
    hops: int = 1


def _usage_text(usage: Any | None) -> str | None:
    if usage is None:
        return None
    prompt = getattr(usage, "prompt_token_count", None) or 0
    output = getattr(usage, "candidates_token_count", None) or 0
    total = getattr(usage, "total_token_count", None) or 0
    thoughts = getattr(usage, "thoughts_token_count", None)
    cached = getattr(usage, "cached_content_token_count", None)
    prompt_text = f"{prompt:,} prompt ({cached:,} cached)" if cached else f"{prompt:,} prompt"
    text = f"tokens: {prompt_text} / {output:,} output / {total:,} total"
    return f"{text} ({thoughts:,} thoughts)" if thoughts else text


class FooterLine(Block):
    """Model, token usage and the offline label; latency goes in the output's metadata.

    The latency changes from run to run, so it stays out of the text: stored notebooks
    then compare equal under nbval, which never compares metadata.
    """

    def __init__(self, footer: Footer) -> None:
        self.footer = footer

    def _pieces(self) -> list[str]:
        footer = self.footer
        pieces = [footer.model]
        if footer.offline:
            pieces.append(OFFLINE_LABEL)
        usage = _usage_text(footer.usage)
        if usage:
            pieces.append(usage)
        if footer.hops > 1:
            pieces.append(
                f"{footer.hops} hops past the decode limit (each re-billed the input; usage summed)"
            )
        if footer.conversation != "default":
            pieces.append(f"conversation: {footer.conversation}")
        return pieces

    def _markdown(self) -> str:
        return "*" + " · ".join(markdown_literal(p) for p in self._pieces()) + "*"

    def _plain(self) -> str:
        return " · ".join(self._pieces())

    def metadata(self) -> dict[str, Any]:
        footer = self.footer
        about = {
            "latency_s": round(footer.latency_s, 3),
            "model": footer.model,
            "model_version": footer.model_version,
            "offline": footer.offline,
            "conversation": footer.conversation,
        }
        return {"gemini_magic": about | ({"hops": footer.hops} if footer.hops > 1 else {})}

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> MimeBundle:
        data, _ = super()._repr_mimebundle_(include, exclude)
        return data, self.metadata()
