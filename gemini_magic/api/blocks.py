"""The way back: recorded turns as Interactions input, content blocks and steps.

A turn is kept as ``types.Content`` whichever API carried it.  To send it to the
Interactions API again (``store=False``, where nothing is kept at Google, and a
conversation whose stored interactions expired) it is written here as the API's
content blocks (``text``, ``image``, ``document``) and steps, signatures included.
Every file goes as a block the sandbox has as a file: images, documents and text or
source files (a ``document`` of its own MIME type).
"""

from __future__ import annotations

import base64
from typing import Any

from gemini_magic.api.sdk import types
from gemini_magic.api.signatures import signature_text
from gemini_magic.text import OUTCOME_OK, code_language, enum_text

#: The document types an Interactions ``document`` block names (the SDK's
#: ``DocumentContentMimeType``); text and source files go as documents of their own
#: type too, so the sandbox has them as files (the type is an open string).
DOCUMENT_TYPES = frozenset(
    {
        "application/pdf",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.ms-powerpoint",
        "application/vnd.oasis.opendocument.presentation",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel",
        "application/vnd.oasis.opendocument.spreadsheet",
    }
)


def is_text(mime_type: str) -> bool:
    """Whether a file of this type is text (``text/*``, JSON): the sandbox opens it."""
    return mime_type.startswith("text/") or mime_type == "application/json"


def takes_file(mime_type: str) -> bool:
    """Whether this type goes as an image or document block: a file in the sandbox."""
    return mime_type.startswith("image/") or mime_type in DOCUMENT_TYPES or is_text(mime_type)


def as_text_part(blob: types.Blob) -> types.Part:
    """A text file the service refused as a document, as a text part with its content.

    It reaches the model, but not the sandbox: the note says so (the attachment's own
    description, sent before it, names a sandbox file).
    """
    name = blob.display_name or "attachment"
    text = (blob.data or b"").decode("utf-8", errors="replace")
    return types.Part(
        text=f"The file `{name}` ({blob.mime_type}) could not be sent as a file (the service "
        f"refused its type as a document), so the sandbox does not have it; its text:\n{text}"
    )


def content_blocks(content: types.Content) -> list[dict[str, Any]]:
    """A recorded user turn's parts as Interactions content blocks."""
    blocks: list[dict[str, Any]] = []
    for part in content.parts or []:
        if part.text is not None:
            blocks.append({"type": "text", "text": part.text})
        elif part.inline_data is not None:
            blob = part.inline_data
            blocks.append(inline_block(blob.mime_type or "", blob.data or b"", blob.display_name))
        elif part.file_data is not None:
            data = part.file_data
            blocks.append(media_block(data.mime_type or "", uri=data.file_uri))
    return blocks


def inline_block(mime_type: str, data: bytes, name: str | None) -> dict[str, Any]:
    """An image or document block (text and source files included), or for a type that
    is neither a text block with its content."""
    if takes_file(mime_type):
        return media_block(mime_type, data=data)
    text = data.decode("utf-8", errors="replace")
    return {"type": "text", "text": f"The file `{name or 'attachment'}` ({mime_type}):\n{text}"}


def media_block(mime_type: str, *, data: bytes | None = None, uri: str | None = None) -> dict:
    """An ``image`` or ``document`` content block, inline (base64) or by Files-API URI."""
    block: dict[str, Any] = {
        "type": "image" if mime_type.startswith("image/") else "document",
        "mime_type": mime_type,
    }
    if uri is not None:
        block["uri"] = uri
    else:
        block["data"] = base64.b64encode(data or b"").decode("ascii")
    return block


def history_steps(turns: list[tuple[types.Content, types.Content]]) -> list[dict[str, Any]]:
    """Recorded (user, model) turns as the input steps of a stateless request."""
    steps: list[dict[str, Any]] = []
    for user, model in turns:
        steps.append({"type": "user_input", "content": content_blocks(user)})
        steps.extend(model_steps(model))
    return steps


def model_steps(content: types.Content) -> list[dict[str, Any]]:
    """A recorded model turn as steps, signatures included (the service needs them)."""
    steps: list[dict[str, Any]] = []
    output: list[dict[str, Any]] = []

    def flush() -> None:
        if output:
            steps.append({"type": "model_output", "content": list(output)})
            output.clear()

    for part in content.parts or []:
        signature = signature_text(part.thought_signature)
        if part.thought:
            flush()
            step: dict[str, Any] = {"type": "thought"}
            if part.text:
                step["summary"] = [{"type": "text", "text": part.text}]
            if signature:
                step["signature"] = signature
            steps.append(step)
        elif part.executable_code is not None:
            flush()
            code = part.executable_code
            call = {
                "type": "code_execution_call",
                "id": code.id or f"call_{len(steps)}",
                "arguments": {"code": code.code or "", "language": code_language(code.language)},
            }
            steps.append(call | ({"signature": signature} if signature else {}))
        elif part.code_execution_result is not None:
            flush()
            result = part.code_execution_result
            previous = next((s for s in reversed(steps) if "arguments" in s), None)
            answer = {
                "type": "code_execution_result",
                "call_id": result.id or (previous["id"] if previous else "call_0"),
                "result": result.output or "",
                "is_error": enum_text(result.outcome) not in ("", OUTCOME_OK),
            }
            steps.append(answer | ({"signature": signature} if signature else {}))
        elif part.text is not None:
            output.append({"type": "text", "text": part.text})
        elif part.inline_data is not None:
            blob = part.inline_data
            output.append(media_block(blob.mime_type or "", data=blob.data or b""))
    flush()
    return steps
