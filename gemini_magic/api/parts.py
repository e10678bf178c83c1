"""The parts of a model turn: merging a stream into one turn, and reading them.

A turn is kept as ``google.genai.types.Part`` objects whichever API it came through:
the Interactions steps are turned into the same parts (text, thought, code, result,
inline image), so the display, the answer object and the history file have one shape to
read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gemini_magic.api.sdk import types
from gemini_magic.inputs.attachment import Attachment, PreparedPrompt

#: The ``part_metadata`` key of a part that stands for an Interactions step or delta
#: this version does not know (the display shows a placeholder naming it).
UNKNOWN_KEY = "gemini_magic_unknown"

#: The token counts kept of an answer (the names of the SDK's usage metadata).
USAGE_FIELDS = (
    "prompt_token_count",
    "candidates_token_count",
    "thoughts_token_count",
    "tool_use_prompt_token_count",
    "cached_content_token_count",
    "total_token_count",
)


def usage_dict(usage: Any) -> dict[str, int]:
    """The token counts of an answer as plain ints (for totals and the history file)."""
    if usage is None:
        return {}
    return {n: int(getattr(usage, n)) for n in USAGE_FIELDS if getattr(usage, n, None)}


def merge_parts(parts: Iterable[types.Part]) -> list[types.Part]:
    """Join the parts of a streamed answer into the parts of one model turn.

    Adjacent text parts of the same kind (thought or not) become one part; every other
    part (code, result, image) is kept whole and in order.  A thought signature on any
    of the joined pieces is kept on the joined part: the service needs it back.

    A run of text pieces is joined once, at its end: joining piece by piece built a new
    ``Part`` (a pydantic validation) and a longer string for every streamed event.
    """
    merged: list[types.Part] = []
    run: list[types.Part] = []  # the text pieces that merged[-1] stands for

    def close_run() -> None:
        if len(run) > 1:
            merged[-1] = types.Part(
                text="".join(p.text or "" for p in run),
                thought=run[0].thought,
                thought_signature=next(
                    (p.thought_signature for p in run if p.thought_signature), None
                ),
            )
        run.clear()

    for part in parts:
        if (
            part.text is not None
            and run
            and bool(run[0].thought) == bool(part.thought)
            and not (part.thought_signature and any(p.thought_signature for p in run))
        ):
            run.append(part)
            continue
        if part.text == "" and not part.thought_signature:
            continue
        close_run()
        merged.append(part)
        if part.text is not None:
            run.append(part)
    close_run()
    return merged


def user_content(
    prepared: PreparedPrompt,
    uri_for: Callable[[Attachment], str | None],
    note: Callable[[Attachment], str | None] = lambda attachment: None,
) -> types.Content:
    """The new user turn: for each attachment a text saying what it is (and the API's
    ``note`` on it) and its data (inline, or the uploaded file ``uri_for`` gives), then
    the prompt text."""
    parts: list[types.Part] = []
    for attachment in prepared.attachments:
        extra = note(attachment)
        described = attachment.describe()
        parts.append(types.Part(text=f"{described}\n{extra}" if extra else described))
        parts.append(attachment_part(attachment, uri_for(attachment)))
    parts.append(types.Part(text=prepared.text))
    return types.Content(role="user", parts=parts)


def attachment_part(attachment: Attachment, uri: str | None) -> types.Part:
    """The part that carries an attachment's data: inline, or the uploaded file."""
    if uri is None:
        blob = types.Blob(
            data=attachment.data, mime_type=attachment.mime_type, display_name=attachment.filename
        )
        return types.Part(inline_data=blob)
    return types.Part(file_data=types.FileData(file_uri=uri, mime_type=attachment.mime_type))
