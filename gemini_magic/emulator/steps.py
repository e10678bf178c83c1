"""The model's parts as Interactions steps, and as the stream events that build them.

The model produces generateContent-shaped parts one at a time (code runs between
them).  :class:`StepWriter` turns each into the events of the Interactions stream
(``step.start`` / ``step.delta`` / ``step.stop``) and keeps the finished steps for the
JSON answer, so a streamed and a plain answer always hold the same steps:

* a thought part -> a ``thought`` step: ``thought_summary`` delta (when summaries are
  asked for) and a ``thought_signature`` delta;
* ``executableCode`` -> ``code_execution_call`` (id, ``arguments.code``, signature);
* ``codeExecutionResult`` -> ``code_execution_result`` (``call_id``, ``result`` text,
  ``is_error``, signature);
* text and ``inlineData`` parts -> one ``model_output`` step, text in ``text`` deltas
  of a few words each, figures as ``image`` deltas (PNG, base64);
* search parts -> ``google_search_call`` and ``google_search_result`` steps, and a
  text's sources as ``url_citation`` annotations.
"""

from __future__ import annotations

import hashlib
from typing import Any

from gemini_magic.emulator.sandbox import OUTCOME_OK
from gemini_magic.emulator.wire import signature, split_text

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
            image = {"type": "image", "data": blob["data"], "mime_type": blob["mimeType"]}
            return self._output(image, None)
        events = self.close()
        if part.get("thought"):
            return events + self._thought(part["text"])
        if "executableCode" in part:
            code = part["executableCode"]["code"]
            self._call_id = self._new_id("call", code)
            step = {"type": "code_execution_call", "id": self._call_id}
            arguments = {"code": code, "language": "python"}
            delta = {"type": "code_execution_call", "arguments": arguments}
            return events + self._whole(step, delta, {"arguments": arguments})
        if "codeExecutionResult" in part:
            result = part["codeExecutionResult"]
            step = {"type": "code_execution_result", "call_id": self._call_id, "result": ""}
            done = {"result": result["output"], "is_error": result["outcome"] != OUTCOME_OK}
            return events + self._whole(step, {"type": "code_execution_result", **done}, done)
        if "searchCall" in part:
            queries = list(part["searchCall"]["queries"])
            self._call_id = self._new_id("search", *queries)
            step = {"type": "google_search_call", "id": self._call_id, "arguments": {}}
            arguments = {"queries": queries}
            delta = {"type": "google_search_call", "arguments": arguments}
            return events + self._whole(step, delta, {"arguments": arguments})
        if "searchResult" in part:
            found = [{"search_suggestions": part["searchResult"]["suggestions"]}]
            step = {"type": "google_search_result", "call_id": self._call_id, "result": []}
            delta = {"type": "google_search_result", "result": found}
            return events + self._whole(step, delta, {"result": found})
        return events

    def close(self) -> list[Event]:
        """Stop the model_output step being written, if any."""
        if not self._open:
            return []
        self._open = False
        return [_stop(len(self.steps) - 1)]

    # -- steps --------------------------------------------------------------------------

    def _new_id(self, kind: str, *pieces: str) -> str:
        seed = "\x00".join((self.interaction_id, str(len(self.steps)), *pieces))
        return f"{kind}_{hashlib.sha256(seed.encode('utf-8')).hexdigest()[:16]}"

    def _signature(self, *pieces: str) -> str:
        return signature(self.interaction_id, str(len(self.steps)), *pieces)

    def _start(self, step: dict[str, Any]) -> Event:
        self.steps.append(step)
        return {"event_type": "step.start", "index": len(self.steps) - 1, "step": dict(step)}

    def _delta(self, delta: dict[str, Any]) -> Event:
        return {"event_type": "step.delta", "index": len(self.steps) - 1, "delta": delta}

    def _whole(
        self, step: dict[str, Any], delta: dict[str, Any], done: dict[str, Any]
    ) -> list[Event]:
        """A tool step sent in one delta; ``done`` is what the delta adds to the step."""
        sign = self._signature(step["type"], repr(done))
        start = self._start(step)
        self.steps[-1] = {**step, **done, "signature": sign}
        return [start, self._delta({**delta, "signature": sign}), _stop(len(self.steps) - 1)]

    def _thought(self, summary: str) -> list[Event]:
        sign = self._signature("thought", summary)
        events = [self._start({"type": "thought"})]
        step: dict[str, Any] = {"type": "thought", "signature": sign}
        if self.summaries and summary:
            content = {"type": "text", "text": summary}
            events.append(self._delta({"type": "thought_summary", "content": content}))
            step["summary"] = [content]
        self.steps[-1] = step
        events.append(self._delta({"type": "thought_signature", "signature": sign}))
        return [*events, _stop(len(self.steps) - 1)]

    def _output(self, content: dict[str, Any], citations: Any) -> list[Event]:
        """Text or an image, into the open model_output step (started if need be)."""
        events = [] if self._open else [self._start({"type": "model_output"})]
        if not self._open:
            self.steps[-1] = {"type": "model_output", "content": []}
            self._open = True
        held: list[dict[str, Any]] = self.steps[-1]["content"]
        if content["type"] == "image":
            held.append(content)
            return [*events, self._delta(content)]
        if not (held and held[-1]["type"] == "text"):
            held.append({"type": "text", "text": ""})
        last = held[-1]
        start = len(last["text"].encode("utf-8"))
        last["text"] += content["text"]
        events.extend(self._delta({"type": "text", "text": p}) for p in split_text(content["text"]))
        if citations:
            end = len(last["text"].encode("utf-8"))
            notes = [_citation(c, start, end) for c in citations]
            last.setdefault("annotations", []).extend(notes)
            events.append(self._delta({"type": "text_annotation_delta", "annotations": notes}))
        return events


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
