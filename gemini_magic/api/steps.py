"""Interactions API steps and events, to and from the parts a turn is kept as.

The service answers in typed *steps* (``thought``, ``code_execution_call``,
``code_execution_result``, ``model_output``, ...) and streams them as ``step.start`` /
``step.delta`` / ``step.stop`` events.  :class:`StepReader` turns them into the same
``types.Part`` objects a generateContent answer is made of, the moment each arrives, so
the display, the answer object and the history file have one shape to read.  The way
back, :func:`history_steps`, writes recorded turns as input steps with their
signatures: for ``store=False`` (nothing kept at Google) and for re-sending a
conversation whose stored interactions expired.
"""

from __future__ import annotations

import base64
from typing import Any

from gemini_magic.api.backend import OnPart, Reader
from gemini_magic.api.parts import UNKNOWN_KEY
from gemini_magic.api.sdk import types
from gemini_magic.api.signatures import signature_bytes, signature_text
from gemini_magic.errors import GeminiAPIError
from gemini_magic.text import OUTCOME_FAILED, OUTCOME_OK, enum_text

#: Interaction statuses and the finish reason the answer gets (None: it ended well).
_FINISH = {
    "completed": None,
    "incomplete": "MAX_TOKENS",
    "budget_exceeded": "MAX_TOKENS",
    "cancelled": "CANCELLED",
}


def usage_metadata(usage: Any) -> types.GenerateContentResponseUsageMetadata | None:
    """The Interactions usage in the names the footer and the totals read."""
    if usage is None:
        return None
    return types.GenerateContentResponseUsageMetadata(
        prompt_token_count=usage.total_input_tokens,
        candidates_token_count=usage.total_output_tokens,
        thoughts_token_count=usage.total_thought_tokens,
        tool_use_prompt_token_count=usage.total_tool_use_tokens,
        cached_content_token_count=usage.total_cached_tokens,
        total_token_count=usage.total_tokens,
    )


class StepReader(Reader):
    """Reads one interaction's events (or finished steps) into parts, in order."""

    def __init__(self, on_part: OnPart) -> None:
        super().__init__(on_part)
        self.status: str | None = None
        self._steps: dict[int, Any] = {}
        self._pending: dict[int, dict[str, Any]] = {}
        self._unknown_deltas: dict[str, None] = {}  # named once by finish(), not mid-text

    # --- streamed events -----------------------------------------------------------

    def event(self, event: Any) -> None:
        """Take one SSE event the SDK yielded (it yields error events and bare strings)."""
        if isinstance(event, str):
            raise GeminiAPIError(
                "Gemini sent a stream event that could not be read; the answer is incomplete.",
                hint="This is usually transient; run the cell again.",
            )
        kind = getattr(event, "event_type", None)
        if kind in ("interaction.created", "interaction.completed"):
            self._interaction(event.interaction)
        elif kind == "interaction.status_update":
            self.status = event.status or self.status
            self.interaction_id = event.interaction_id or self.interaction_id
        elif kind == "step.start":
            self._steps[event.index] = event.step
            self._start(event.index, event.step)
        elif kind == "step.delta":
            self._delta(event.index, event.delta)
        elif kind == "step.stop":
            self._stop(event.index)
        elif kind == "error":
            error = event.error
            code = getattr(error, "code", None) or "error"
            message = getattr(error, "message", None) or "no message"
            raise GeminiAPIError(
                f"Gemini reported an error during the answer ({code}): {message}",
                status=str(code),
                service_message=message,
                hint="Nothing was added to the conversation; run the cell again.",
            )
        # Any other event type (a newer service's bookkeeping) carries no part of the
        # answer: steps and deltas do, and an unknown one of those shows as a placeholder.

    def _interaction(self, interaction: Any) -> None:
        self.interaction_id = interaction.id or self.interaction_id
        self.model_version = interaction.model or self.model_version
        self.status = interaction.status or self.status
        if interaction.usage is not None:
            self.usage = usage_metadata(interaction.usage)

    def _start(self, index: int, step: Any) -> None:
        kind = getattr(step, "type", None)
        if kind == "thought":
            self._pending[index] = {"signature": step.signature}
            for content in step.summary or []:
                self._text(getattr(content, "text", None), thought=True)
        elif kind == "code_execution_call":
            arguments = step.arguments
            self._pending[index] = {
                "id": step.id,
                "code": getattr(arguments, "code", None) or "",
                "signature": step.signature,
            }
        elif kind == "code_execution_result":
            self._pending[index] = {
                "call_id": step.call_id,
                "result": _result_text(step.result),
                "is_error": step.is_error,
                "signature": step.signature,
            }
        elif kind == "model_output":
            for content in step.content or []:
                self._content(content)
        elif kind == "google_search_call":
            for query in getattr(step.arguments, "queries", None) or []:
                self.grounding.add_query(query)
        elif kind == "google_search_result":
            self._search_results(step.result)
        elif kind != "user_input":
            self._emit_unknown(f"step {_raw_type(step)}")

    def _delta(self, index: int, delta: Any) -> None:
        kind = getattr(delta, "type", None)
        pending = self._pending.get(index)
        if kind == "text":
            self._text(delta.text, thought=False)
        elif kind == "thought_summary":
            self._text(getattr(delta.content, "text", None), thought=True)
        elif kind == "thought_signature" and pending is not None:
            pending["signature"] = delta.signature
        elif kind == "code_execution_call" and pending is not None:
            pending["code"] = getattr(delta.arguments, "code", None) or pending["code"]
            pending["signature"] = delta.signature or pending["signature"]
        elif kind == "code_execution_result" and pending is not None:
            pending["result"] += delta.result or ""
            pending["is_error"] = delta.is_error if delta.is_error is not None else None
            pending["signature"] = delta.signature or pending["signature"]
        elif kind == "image":
            self._image(delta.data, delta.mime_type)
        elif kind == "google_search_call":
            for query in getattr(delta.arguments, "queries", None) or []:
                self.grounding.add_query(query)
        elif kind == "google_search_result":
            self._search_results(delta.result)
        elif kind == "text_annotation_delta":
            self._citations(delta.annotations)
        elif kind != "arguments_delta":
            self._unknown_deltas[f"delta {_raw_type(delta)}"] = None

    def _stop(self, index: int) -> None:
        step = self._steps.pop(index, None)
        pending = self._pending.pop(index, None)
        kind = getattr(step, "type", None)
        if pending is None:
            return
        signature = signature_bytes(pending.get("signature"))
        if kind == "thought" and signature:
            self.emit(types.Part(thought=True, text="", thought_signature=signature))
        elif kind == "code_execution_call":
            code = types.ExecutableCode(code=pending["code"], language="PYTHON", id=pending["id"])
            self.emit(types.Part(executable_code=code, thought_signature=signature))
        elif kind == "code_execution_result":
            outcome = OUTCOME_FAILED if pending["is_error"] else OUTCOME_OK
            result = types.CodeExecutionResult(
                outcome=outcome, output=pending["result"], id=pending["call_id"]
            )
            self.emit(types.Part(code_execution_result=result, thought_signature=signature))

    def finish(self) -> None:
        """End the answer: name each kind of delta this version could not show, once."""
        unknown, self._unknown_deltas = self._unknown_deltas, {}
        for what in unknown:
            self._emit_unknown(what)

    # --- a finished interaction (stream=False) -------------------------------------

    def interaction(self, interaction: Any) -> None:
        """Take a whole ``Interaction`` (a non-streamed answer) step by step."""
        self._interaction(interaction)
        for index, step in enumerate(interaction.steps or []):
            self._steps[index] = step
            self._start(index, step)
            self._stop(index)

    @property
    def finish_reason(self) -> str | None:
        if self.status == "failed":
            raise GeminiAPIError(
                "Gemini reported that the answer failed.",
                hint="Nothing was added to the conversation; run the cell again.",
            )
        return _FINISH.get(self.status or "completed", enum_text(self.status))

    # --- parts ----------------------------------------------------------------------

    def _text(self, text: str | None, *, thought: bool) -> None:
        if text:
            self.emit(types.Part(text=text, thought=True if thought else None))

    def _search_results(self, results: Any) -> None:
        for result in results or []:
            if getattr(result, "search_suggestions", None):
                self.grounding.entry_points.append(result.search_suggestions)

    def _citations(self, annotations: Any) -> None:
        for note in annotations or []:
            if getattr(note, "type", None) == "url_citation":
                self.grounding.add_source(note.title, note.url)

    def _content(self, content: Any) -> None:
        kind = getattr(content, "type", None)
        if kind == "text":
            self._text(content.text, thought=False)
            self._citations(content.annotations)
        elif kind == "image":
            self._image(content.data, content.mime_type)
        else:
            self._emit_unknown(f"content {kind}")

    def _image(self, data: str | None, mime_type: Any) -> None:
        try:
            raw = base64.b64decode(data or "")
        except ValueError as error:  # binascii.Error: not base64 after all
            raise GeminiAPIError("Gemini sent an image that could not be decoded.") from error
        self.emit(types.Part(inline_data=types.Blob(data=raw, mime_type=enum_text(mime_type))))

    def _emit_unknown(self, what: str) -> None:
        self.emit(types.Part(part_metadata={UNKNOWN_KEY: what}))


def _raw_type(item: Any) -> str:
    """The wire type of a step or delta, also of one the SDK parsed as ``UNKNOWN``."""
    raw = getattr(item, "raw", None)
    if isinstance(raw, dict) and raw.get("type"):
        return str(raw["type"])
    return str(getattr(item, "type", None) or "?")


def _result_text(result: Any) -> str:
    """A result step's output: a string, or a list of text (and image) contents."""
    if isinstance(result, str):
        return result
    return "".join(getattr(item, "text", None) or "" for item in result or [])


# --- the way back: recorded turns as input steps ---------------------------------------


#: The document types an Interactions ``document`` block takes (the SDK's
#: ``DocumentContentMimeType``); other text goes as a text block.
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


def takes_file(mime_type: str) -> bool:
    """Whether the Interactions API takes this type as an image or document block."""
    return mime_type.startswith("image/") or mime_type in DOCUMENT_TYPES


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
    """An image or document block, or for text the API has no document type for (a
    ``.py``, ``.txt``, ``.json`` file, the last error) a text block with its content."""
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
                "arguments": {"code": code.code or "", "language": "python"},
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
