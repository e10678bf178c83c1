"""Approximate, deterministic token counts for ``usageMetadata``.

The emulator has no tokenizer.  It counts about four characters per token (rounded
up) and a flat 258 tokens per image, which is the service's figure for a small image.
The numbers are not the service's, but the same request always gets the same counts,
so a usage display can be tested.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gemini_magic.emulator.wire.codec import GenerateRequest

CHARS_PER_TOKEN = 4
IMAGE_TOKENS = 258


def count_tokens(text: str) -> int:
    """About one token per four characters, never zero for non-empty text."""
    return -(-len(text) // CHARS_PER_TOKEN)


def part_tokens(part: dict[str, Any]) -> int:
    """Tokens of one reply part (text, code, execution output or an image)."""
    if "text" in part:
        return count_tokens(part["text"])
    if "executableCode" in part:
        return count_tokens(part["executableCode"]["code"])
    if "codeExecutionResult" in part:
        return count_tokens(part["codeExecutionResult"].get("output", ""))
    if "inlineData" in part:
        return IMAGE_TOKENS
    return 0


def usage_metadata(
    prompt_tokens: int, parts: list[dict[str, Any]], cached_tokens: int = 0
) -> dict[str, Any]:
    """The ``usageMetadata`` of a reply.

    Execution results and figures count as tool-use prompt tokens (the service feeds
    them back to the model); text and code count as candidate tokens.  Tokens served
    from a context cache are part of ``promptTokenCount`` and are also reported as
    ``cachedContentTokenCount``, as the service reports them (billed at a lower rate).
    """
    tool = sum(part_tokens(p) for p in parts if "codeExecutionResult" in p or "inlineData" in p)
    thoughts = sum(part_tokens(p) for p in parts if p.get("thought"))
    candidates = sum(part_tokens(p) for p in parts) - tool - thoughts
    usage: dict[str, Any] = {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt_tokens + candidates + tool + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
    }
    if tool:
        usage["toolUsePromptTokenCount"] = tool
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    if cached_tokens:
        usage["cachedContentTokenCount"] = cached_tokens
        usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached_tokens}]
    return usage


def interaction_usage(request: GenerateRequest, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The Interactions API's ``usage``, the same counts as :func:`usage_metadata`.

    Input tokens count the whole context: the stored chain, as the service bills it,
    and the new input.
    """
    metadata = usage_metadata(request.prompt_tokens, parts, request.cached_tokens)
    prompt = metadata["promptTokenCount"]
    searches = sum(1 for part in parts if "searchCall" in part)
    usage: dict[str, Any] = {
        "total_input_tokens": prompt,
        "total_output_tokens": metadata["candidatesTokenCount"],
        "total_thought_tokens": metadata.get("thoughtsTokenCount", 0),
        "total_tool_use_tokens": metadata.get("toolUsePromptTokenCount", 0),
        "total_cached_tokens": metadata.get("cachedContentTokenCount", 0),
        "total_tokens": metadata["totalTokenCount"],
        "input_tokens_by_modality": [{"modality": "text", "tokens": prompt}],
    }
    if searches:
        usage["grounding_tool_count"] = [{"type": "google_search", "count": searches}]
    return usage
