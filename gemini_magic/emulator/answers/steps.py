"""The model's parts as Interactions steps, and as the stream events that build them.

The model produces generateContent-shaped parts one at a time (code runs between
them).  :class:`StepWriter` turns each into the events of the Interactions stream
(``step.start`` / ``step.delta`` / ``step.stop``) and keeps the finished steps for the
JSON answer, so a streamed and a plain answer always hold the same steps:

* a thought part -> a ``thought`` step: ``thought_summary`` delta (when summaries are
  asked for) and a ``thought_signature`` delta;
* ``executableCode`` -> ``code_execution_call`` (id, ``arguments.code``, signature);
* ``codeExecutionResult`` -> ``code_execution_result`` (``call_id``, ``result`` text,
  or for a shell step a list of text and image contents, sent with ``step.start``
  since a delta's result is text only; ``is_error``, signature);
* text and ``inlineData`` parts -> one ``model_output`` step, text in ``text`` deltas
  of a few words each, figures as ``image`` deltas (PNG, base64);
* search parts -> ``google_search_call`` and ``google_search_result`` steps, and a
  text's sources as ``url_citation`` annotations.
"""

from __future__ import annotations

import hashlib
from typing import Any

from gemini_magic.emulator.answers.sandbox import OUTCOME_OK
from gemini_magic.emulator.wire.codec import signature, split_text

Event = dict[str, Any]


class StepWriter:
    """Builds the steps of one interaction from the model's parts, as they come."""

    def __init__(self, interaction_id: str, summaries: bool) -> None:
        self.interaction_id = interaction_id
        self.summaries = summaries
        self.steps: list[dict[str, Any]] = []
        self._open = False  # whether the last step is a model_output still being written
        self._call_id = ""

    def feed(self, part: dict[str, Any]) -> list[Event]:
        """The events for one more part (the step it belongs to is started if need be)."""
        if "text" in part and not part.get("thought"):
            return self._output({"type": "text", "text": part["text"]}, part.get("citations"))
        if "inlineData" in part:
            blob = part["inlineData"]
            return self._output(
                {"type": "image", "data": blob["data"], "mime_type": blob["mimeType"]}, None
            )
        events = self.close()
        step = self._step(part)
        if step is None:
            return events
        self.steps.append(step)
        return events + step_events(len(self.steps) - 1, step)

    def close(self) -> list[Event]:
        """Stop the model_output step being written, if any."""
        if not self._open:
            return []
        self._open = False
        return [_stop(len(self.steps) - 1)]

    def _step(self, part: dict[str, Any]) -> dict[str, Any] | None:
        """The whole, signed step that a part other than text or an image makes."""
        step: dict[str, Any]
        if part.get("thought"):
            step = {"type": "thought"}
            if self.summaries and part["text"]:
                step["summary"] = [{"type": "text", "text": part["text"]}]
        elif "executableCode" in part:
            code = part["executableCode"]["code"]
            self._call_id = self._new_id("call", code)
            language = str(part["executableCode"].get("language") or "PYTHON").lower()
            arguments = {"code": code, "language": language}
            step = {"type": "code_execution_call", "id": self._call_id, "arguments": arguments}
        elif "codeExecutionResult" in part:
            result = part["codeExecutionResult"]
            failed = result["outcome"] != OUTCOME_OK
            step = {"type": "code_execution_result", "call_id": self._call_id}
            step.update(result=part.get("content") or result["output"], is_error=failed)
        elif "searchCall" in part:
            queries = list(part["searchCall"]["queries"])
            self._call_id = self._new_id("search", *queries)
            step = {"type": "google_search_call", "id": self._call_id}
            step["arguments"] = {"queries": queries}
        elif "searchResult" in part:
            found = [{"search_suggestions": part["searchResult"]["suggestions"]}]
            step = {"type": "google_search_result", "call_id": self._call_id, "result": found}
        else:
            return None
        step["signature"] = signature(self.interaction_id, str(len(self.steps)), repr(step))
        return step

    def _new_id(self, kind: str, *pieces: str) -> str:
        seed = "\x00".join((self.interaction_id, str(len(self.steps)), *pieces))
        return f"{kind}_{hashlib.sha256(seed.encode('utf-8')).hexdigest()[:16]}"

    def _output(self, content: dict[str, Any], citations: Any) -> list[Event]:
        """Text or an image, into the open model_output step (started if need be)."""
        events = []
        if not self._open:
            self.steps.append({"type": "model_output", "content": []})
            self._open = True
            events.append(_start(len(self.steps) - 1, {"type": "model_output"}))
        held: list[dict[str, Any]] = self.steps[-1]["content"]
        piece = content
        if content["type"] == "text":
            if not (held and held[-1]["type"] == "text"):
                held.append({"type": "text", "text": ""})
            last = held[-1]
            start = len(last["text"].encode("utf-8"))
            last["text"] += content["text"]
            if citations:
                end = len(last["text"].encode("utf-8"))
                piece = {**content, "annotations": [_citation(c, start, end) for c in citations]}
                last.setdefault("annotations", []).extend(piece["annotations"])
        else:
            held.append(content)
        index = len(self.steps) - 1
        return events + [_delta(index, d) for d in content_deltas(piece)]


def step_events(index: int, step: dict[str, Any]) -> list[Event]:
    """A whole step as a stream sends it: ``step.start``, its deltas, ``step.stop``."""
    return [_start(index, _stub(step)), *(_delta(index, d) for d in _deltas(step)), _stop(index)]


def content_deltas(content: dict[str, Any]) -> list[dict[str, Any]]:
    """A model_output content as deltas: text in pieces (then its citations), or an image."""
    if content["type"] != "text":
        return [dict(content)]
    deltas: list[dict[str, Any]] = [
        {"type": "text", "text": piece} for piece in split_text(content["text"])
    ]
    if content.get("annotations"):
        deltas.append({"type": "text_annotation_delta", "annotations": content["annotations"]})
    return deltas


_STUB = {
    "code_execution_call": ("id", {"arguments": {}}),
    "google_search_call": ("id", {"arguments": {}}),
    "code_execution_result": ("call_id", {"result": ""}),
    "google_search_result": ("call_id", {"result": []}),
}
"""What ``step.start`` tells of a tool step: its id (or call id) and empty arguments."""


def _stub(step: dict[str, Any]) -> dict[str, Any]:
    kind = step["type"]
    if kind == "user_input":
        return dict(step)  # a replayed input comes whole
    if kind == "code_execution_result" and isinstance(step["result"], list):
        # A delta's result is text only: a list of contents comes with the step.
        return {"type": kind, "call_id": step["call_id"], "result": step["result"]}
    if kind not in _STUB:
        return {"type": kind}
    key, empty = _STUB[kind]
    return {"type": kind, key: step[key], **empty}


def _deltas(step: dict[str, Any]) -> list[dict[str, Any]]:
    kind = step["type"]
    if kind == "user_input":
        return []
    if kind == "thought":
        summaries = [{"type": "thought_summary", "content": c} for c in step.get("summary", [])]
        return [*summaries, {"type": "thought_signature", "signature": step["signature"]}]
    if kind == "model_output":
        return [d for content in step.get("content", []) for d in content_deltas(content)]
    if kind == "code_execution_result" and isinstance(step["result"], list):
        return [
            {
                "type": kind,
                "result": "",
                "is_error": step["is_error"],
                "signature": step["signature"],
            }
        ]
    return [{"type": kind, **{k: v for k, v in step.items() if k not in ("type", "id", "call_id")}}]


def _start(index: int, step: dict[str, Any]) -> Event:
    return {"event_type": "step.start", "index": index, "step": step}


def _delta(index: int, delta: dict[str, Any]) -> Event:
    return {"event_type": "step.delta", "index": index, "delta": delta}


def _stop(index: int) -> Event:
    return {"event_type": "step.stop", "index": index}


def _citation(source: dict[str, str], start: int, end: int) -> dict[str, Any]:
    return {
        "type": "url_citation",
        "url": source["uri"],
        "title": source["title"],
        "start_index": start,
        "end_index": end,
    }
