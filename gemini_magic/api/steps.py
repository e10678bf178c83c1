"""Interactions API steps and events, to and from the parts a turn is kept as.

The service answers in typed *steps* (``thought``, ``code_execution_call``,
``code_execution_result``, ``model_output``, ...) and streams them as ``step.start`` /
``step.delta`` / ``step.stop`` events.  :class:`StepReader` turns them into the same
``types.Part`` objects a generateContent answer is made of, the moment each arrives, so
the display, the answer object and the history file have one shape to read.  The way
back, :func:`history_steps`, writes recorded turns as input steps with their
signatures: for ``store=False`` (nothing kept at Google) and for re-sending a
conversation whose stored interactions expired (in :mod:`gemini_magic.api.blocks`).

An answer past the per-request decode limit comes in *hops* (the SDK continues it by
itself): in a stream every hop's events arrive in one iterator, each hop an interaction
of its own with step indices from 0; a whole answer comes merged (``continuation_ids``,
usage summed).  The reader counts the hops and sums their usage either way.
"""

from __future__ import annotations

import base64
from typing import Any

from gemini_magic.api.backend import OnPart, Reader
from gemini_magic.api.parts import UNKNOWN_KEY
from gemini_magic.api.sdk import types
from gemini_magic.api.signatures import signature_bytes
from gemini_magic.errors import GeminiAPIError
from gemini_magic.text import OUTCOME_FAILED, OUTCOME_OK, code_language, enum_text, newer_enums

#: Interaction statuses and the finish reason the answer gets (None: it ended well).
_FINISH = {
    "completed": None,
    "incomplete": "MAX_TOKENS",
    "budget_exceeded": "MAX_TOKENS",
    "cancelled": "CANCELLED",
    # The SDK stopped continuing (a hop handed back the token it was sent with).
    "requires_continuation": "MAX_TOKENS",
}


#: The Interactions usage counts, and the names the footer and the totals read.
_USAGE_NAMES = {
    "total_input_tokens": "prompt_token_count",
    "total_output_tokens": "candidates_token_count",
    "total_thought_tokens": "thoughts_token_count",
    "total_tool_use_tokens": "tool_use_prompt_token_count",
    "total_cached_tokens": "cached_content_token_count",
    "total_tokens": "total_token_count",
}


def usage_metadata(*usages: Any) -> types.GenerateContentResponseUsageMetadata | None:
    """The Interactions usage (summed over hops) in the names the footer and totals read."""
    known = [usage for usage in usages if usage is not None]
    if not known:
        return None
    counts: dict[str, int | None] = {}
    for theirs, ours in _USAGE_NAMES.items():
        values = [getattr(usage, theirs, None) for usage in known]
        present = [value for value in values if value is not None]
        counts[ours] = sum(present) if present else None
    return types.GenerateContentResponseUsageMetadata(**counts)


class StepReader(Reader):
    """Reads one interaction's events (or finished steps) into parts, in order."""

    def __init__(self, on_part: OnPart) -> None:
        super().__init__(on_part)
        self.status: str | None = None
        #: The usage of each hop (interaction) of the answer, by its id.
        self._hop_usage: dict[str | None, Any] = {}
        #: The hops a whole (merged) answer came in; a stream's are counted by id.
        self._merged_hops = 1
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
        self._hop_usage.setdefault(interaction.id, None)
        if interaction.usage is not None:
            self._hop_usage[interaction.id] = interaction.usage
            # The answer's usage: every hop's, summed (each hop re-bills the input).
            self.usage = usage_metadata(*self._hop_usage.values())

    @property
    def hops(self) -> int:
        """How many interactions the answer took (more than 1: continuation hops)."""
        return max(self._merged_hops, len([i for i in self._hop_usage if i is not None]))

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
                "language": code_language(getattr(arguments, "language", None)),
                "signature": step.signature,
            }
        elif kind == "code_execution_result":
            self._pending[index] = {
                "call_id": step.call_id,
                "result": _result_text(step.result),
                # A result may be a list of contents: its images follow its text.
                "images": [] if isinstance(step.result, str) else list(step.result or []),
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
            language = getattr(delta.arguments, "language", None)
            pending["language"] = code_language(language) if language else pending["language"]
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
            with newer_enums():
                code = types.ExecutableCode(
                    code=pending["code"], language=pending["language"].upper(), id=pending["id"]
                )
            self.emit(types.Part(executable_code=code, thought_signature=signature))
        elif kind == "code_execution_result":
            outcome = OUTCOME_FAILED if pending["is_error"] else OUTCOME_OK
            result = types.CodeExecutionResult(
                outcome=outcome, output=pending["result"], id=pending["call_id"]
            )
            self.emit(types.Part(code_execution_result=result, thought_signature=signature))
            for content in pending["images"]:
                if getattr(content, "type", None) == "image":
                    self._image(content.data, content.mime_type)

    def finish(self) -> None:
        """End the answer: name each kind of delta this version could not show, once."""
        unknown, self._unknown_deltas = self._unknown_deltas, {}
        for what in unknown:
            self._emit_unknown(what)

    # --- a finished interaction (stream=False) -------------------------------------

    def interaction(self, interaction: Any) -> None:
        """Take a whole ``Interaction`` (a non-streamed answer) step by step."""
        self._interaction(interaction)
        self._merged_hops = len(getattr(interaction, "continuation_ids", None) or []) or 1
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
