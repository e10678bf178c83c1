"""Generated event streams, as a service that grows new kinds sends them, read into parts.

Interactions: random sequences of the SDK's own event classes (parsed from the wire JSON
by the SDK's ``unmarshal_json``): unknown event, step and delta types, steps out of order
and overlapping, deltas for a step never started, duplicate stops, error events mid-stream,
truncated streams, empty texts, signature-only steps with arbitrary signature strings, and
continuation hops.  generateContent: answers split into chunks anywhere, with empty
candidates and a finish reason mid-stream.  Only our errors escape; no text that arrived
is lost or shown twice; every part shows once; every signature goes back byte for byte.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from google.genai import types
from google.genai._gaos.types import interactions
from google.genai._gaos.utils.serializers import unmarshal_json
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from gemini_magic.api.blocks import model_steps
from gemini_magic.api.content import _Reader
from gemini_magic.api.parts import UNKNOWN_KEY, merge_parts
from gemini_magic.api.signatures import signature_bytes, signature_text
from gemini_magic.api.steps import StepReader
from gemini_magic.errors import GeminiAPIError, GeminiMagicError

pytestmark = pytest.mark.properties

_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_SIGNATURES = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=16),
    st.binary(min_size=1, max_size=12).map(lambda b: base64.b64encode(b).decode()),
    st.binary(min_size=1, max_size=12).map(lambda b: base64.urlsafe_b64encode(b).decode()),
    st.binary(min_size=1, max_size=12).map(lambda b: base64.b64encode(b).decode().rstrip("=")),
)
_UNKNOWN = st.sampled_from(["sparkle", "hologram", "audio_v9", "x"])


def _event(data: dict) -> Any:
    """One SSE event exactly as the SDK's stream yields it (``unmarshal_json`` builds a
    pydantic model per call, too slow for 10,000 streams: the same validation, once)."""
    return _EVENTS.validate_json(json.dumps({"data": data})).data


_EVENTS = TypeAdapter(interactions.InteractionSSEStreamEvent)


def test_events_parse_as_the_sdk_parses_them() -> None:
    data = {"event_type": "step.delta", "index": 0, "delta": {"type": "sparkle", "x": 1}}
    wire = unmarshal_json(json.dumps({"data": data}), interactions.InteractionSSEStreamEvent)
    assert _event(data) == wire.data


@dataclass
class _Stream:
    """Generated events and what a reader of all of them must show."""

    events: list[dict] = field(default_factory=list)


@st.composite
def _step_events(draw: st.DrawFn, index: int) -> list[dict]:
    """The start, deltas and stop of one step of a random kind."""
    kind = draw(st.sampled_from(["thought", "call", "result", "output", "unknown"]))
    signature = draw(st.one_of(st.none(), _SIGNATURES))
    start: dict[str, Any]
    deltas: list[dict] = []
    if kind == "thought":
        start = {"type": "thought"}
        if draw(st.booleans()):
            start["summary"] = [{"type": "text", "text": draw(_TEXT)}]
        if signature is not None:
            if draw(st.booleans()):
                start["signature"] = signature
            else:
                deltas.append({"type": "thought_signature", "signature": signature})
        deltas += [
            {"type": "thought_summary", "content": {"type": "text", "text": draw(_TEXT)}}
            for _ in range(draw(st.integers(0, 2)))
        ]
    elif kind == "call":
        start = {
            "type": "code_execution_call",
            "id": f"call_{index}",
            "arguments": {"code": draw(_TEXT), "language": "python"},
        }
        if signature is not None:
            start["signature"] = signature
    elif kind == "result":
        start = {"type": "code_execution_result", "call_id": f"call_{index}", "result": ""}
        deltas += [
            {"type": "code_execution_result", "result": draw(_TEXT), "is_error": False}
            for _ in range(draw(st.integers(0, 3)))
        ]
        if signature is not None:
            start["signature"] = signature
    elif kind == "output":
        start = {"type": "model_output"}
        if draw(st.booleans()):
            start["content"] = [{"type": "text", "text": draw(_TEXT)}]
        for _ in range(draw(st.integers(0, 4))):
            if draw(st.integers(0, 4)) == 0:
                deltas.append({"type": draw(_UNKNOWN), "payload": draw(_TEXT)})
            else:
                deltas.append({"type": "text", "text": draw(_TEXT)})
    else:
        start = {"type": draw(_UNKNOWN), "payload": draw(_TEXT)}
    events = [{"event_type": "step.start", "index": index, "step": start}]
    events += [{"event_type": "step.delta", "index": index, "delta": d} for d in deltas]
    events.append({"event_type": "step.stop", "index": index})
    if draw(st.integers(0, 5)) == 0:
        events.append({"event_type": "step.stop", "index": index})  # a duplicate stop
    return events


@st.composite
def interaction_streams(draw: st.DrawFn) -> list[dict]:
    """The events of an answer: steps (overlapping, out of index order) and noise."""
    hops = draw(st.integers(1, 2))
    events: list[dict] = []
    for hop in range(hops):
        events.append(
            {
                "event_type": "interaction.created",
                "interaction": {"id": f"ix_{hop}", "status": "in_progress", "model": "m"},
            }
        )
        indices = draw(st.permutations(range(draw(st.integers(0, 5)))))
        steps = [draw(_step_events(i)) for i in indices]
        for step in steps:
            if events and events[-1]["event_type"] == "step.stop" and draw(st.booleans()):
                # Overlap: this step starts before the previous one stops.
                stop = events.pop()
                events += [step[0], stop, *step[1:]]
            else:
                events += step
        status = "requires_continuation" if hop < hops - 1 else "completed"
        events.append(
            {
                "event_type": "interaction.completed",
                "interaction": {"id": f"ix_{hop}", "status": status, "continuation_token": "t"},
            }
        )
    for _ in range(draw(st.integers(0, 3))):  # noise anywhere
        noise = draw(
            st.sampled_from(
                [
                    {"event_type": "party.started", "x": 1},
                    {
                        "event_type": "step.delta",
                        "index": 77,
                        "delta": {"type": "text", "text": "!"},
                    },
                    {"event_type": "step.stop", "index": 78},
                    {
                        "event_type": "interaction.status_update",
                        "interaction_id": "ix_0",
                        "status": "in_progress",
                    },
                    {
                        "event_type": "step.delta",
                        "index": 79,
                        "delta": {"type": "text", "text": ""},
                    },
                ]
            )
        )
        events.insert(draw(st.integers(0, len(events))), noise)
    if draw(st.integers(0, 6)) == 0:
        events.insert(
            draw(st.integers(0, len(events))),
            {"event_type": "error", "error": {"code": "unavailable", "message": "overloaded"}},
        )
    return events[: draw(st.integers(0, len(events)))] if draw(st.booleans()) else events


def _expected(events: list[dict]) -> tuple[str, str, list[str], list[str], list[str]]:
    """What the delivered events must show: answer text, thought text, code, signatures
    (in stop order) and the unknown kinds."""
    text, thought, code, signatures, unknown = [], [], [], [], []
    open_steps: dict[int, dict] = {}
    for event in events:
        kind = event["event_type"]
        if kind == "step.start":
            step = dict(event["step"])
            open_steps[event["index"]] = step
            if step["type"] == "thought":
                thought += [c["text"] for c in step.get("summary", [])]
            elif step["type"] == "model_output":
                text += [c["text"] for c in step.get("content", [])]
            elif step["type"] not in ("code_execution_call", "code_execution_result"):
                unknown.append(f"step {step['type']}")
        elif kind == "step.delta":
            delta, step = event["delta"], open_steps.get(event["index"])
            if delta["type"] == "text":
                text.append(delta["text"])
            elif delta["type"] == "thought_summary":
                thought.append(delta["content"]["text"])
            elif delta["type"] == "thought_signature" and step is not None:
                step["signature"] = delta["signature"]
            elif (
                delta["type"] != "code_execution_result" and f"delta {delta['type']}" not in unknown
            ):
                unknown.append(f"delta {delta['type']}")
        elif kind == "step.stop":
            step = open_steps.pop(event["index"], None)
            if step is None:
                continue
            if step["type"] == "code_execution_call":
                code.append(step["arguments"]["code"])
            signed = ("thought", "code_execution_call", "code_execution_result")
            if step["type"] in signed and step.get("signature"):
                signatures.append(step["signature"])
    return "".join(text), "".join(thought), code, signatures, unknown


@given(interaction_streams())
def test_an_interactions_stream_shows_every_part_once_and_returns_every_signature(
    events: list[dict],
) -> None:
    shown: list[types.Part] = []
    reader = StepReader(shown.append)
    failed = any(e["event_type"] == "error" for e in events)
    try:
        for data in events:
            reader.event(_event(data))
        reader.finish()
    except GeminiMagicError:
        assert failed
        return
    assert not failed
    assert shown == reader.parts  # every part handed to the display once, in order
    text, thought, code, signatures, unknown = _expected(events)
    parts = reader.parts
    assert "".join(p.text for p in parts if p.text and not p.thought) == text
    assert "".join(p.text for p in parts if p.text and p.thought) == thought
    assert [p.executable_code.code for p in parts if p.executable_code] == code
    named = [p.part_metadata[UNKNOWN_KEY] for p in parts if p.part_metadata]
    assert sorted(named) == sorted(unknown)
    # An unknown delta is named after the text, never between its pieces.
    last_text = max((i for i, p in enumerate(parts) if p.text), default=-1)
    for i, part in enumerate(parts):
        if part.part_metadata and part.part_metadata[UNKNOWN_KEY].startswith("delta "):
            assert i > last_text
    # The way back: the signatures as the service sent them, in order.
    sent = model_steps(types.Content(role="model", parts=merge_parts(parts)))
    assert [s["signature"] for s in sent if "signature" in s] == signatures


@given(_SIGNATURES)
def test_any_signature_text_goes_back_unchanged(signature: str) -> None:
    assert signature_text(signature_bytes(signature)) == signature


# --- generateContent --------------------------------------------------------------------


@st.composite
def content_answers(draw: st.DrawFn) -> tuple[list[dict], list[types.Part]]:
    """An answer's parts and the chunks a stream splits them into (anywhere)."""
    parts: list[dict] = []
    for i in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["text", "thought", "code", "result"]))
        signature = draw(st.one_of(st.none(), st.binary(min_size=1, max_size=8)))
        if kind in ("text", "thought"):
            part: dict[str, Any] = {"text": draw(_TEXT.filter(bool))}
            if kind == "thought":
                part["thought"] = True
        elif kind == "code":
            part = {"executable_code": {"code": draw(_TEXT), "language": "PYTHON", "id": f"c{i}"}}
        else:
            part = {"code_execution_result": {"outcome": "OUTCOME_OK", "output": draw(_TEXT)}}
        if signature is not None:
            part["thought_signature"] = signature
        parts.append(part)
    chunks: list[dict] = []
    for part in parts:
        if "text" in part and len(part["text"]) > 1 and draw(st.booleans()):
            cut = draw(st.integers(1, len(part["text"]) - 1))
            first = dict(part, text=part["text"][:cut])
            rest = {k: v for k, v in part.items() if k != "thought_signature"}
            pieces = [first, dict(rest, text=part["text"][cut:])]
        else:
            pieces = [part]
        for piece in pieces:
            chunks.append({"candidates": [{"content": {"role": "model", "parts": [piece]}}]})
            if draw(st.integers(0, 4)) == 0:
                chunks.append(draw(st.sampled_from(_EMPTY_CHUNKS)))
    wanted = [types.Part.model_validate(p) for p in parts]
    return chunks, wanted


_EMPTY_CHUNKS = [
    {"candidates": []},
    {"candidates": [{"content": {"role": "model", "parts": []}}]},
    {"candidates": [{"finish_reason": "STOP"}]},
    {"usage_metadata": {"total_token_count": 3}},
    {"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}}]},
]


@given(content_answers())
def test_a_generate_content_stream_merges_into_the_answer_it_carried(
    answer: tuple[list[dict], list[types.Part]],
) -> None:
    chunks, wanted = answer
    shown: list[types.Part] = []
    reader = _Reader(shown.append)
    for chunk in chunks:
        reader.take(types.GenerateContentResponse.model_validate(chunk))
    assert shown == reader.parts
    merged = merge_parts(reader.parts)
    assert _texts(merged) == _texts(merge_parts(wanted))
    assert [p.executable_code for p in merged if p.executable_code] == [
        p.executable_code for p in wanted if p.executable_code
    ]
    signed = [p.thought_signature for p in merged if p.thought_signature]
    assert signed == [p.thought_signature for p in wanted if p.thought_signature]


def _texts(parts: list[types.Part]) -> tuple[str, str]:
    return (
        "".join(p.text for p in parts if p.text and not p.thought),
        "".join(p.text for p in parts if p.text and p.thought),
    )


# --- the inputs the properties found, as plain regression tests -------------------------


@pytest.mark.parametrize("signature", ["c2ln", "c2lnMQ", "a-_b", "not base64 at all ✓", "YQ=="])
def test_a_signature_is_sent_back_exactly_as_it_came(signature: str) -> None:
    events = [
        {"event_type": "step.start", "index": 0, "step": {"type": "thought"}},
        {
            "event_type": "step.delta",
            "index": 0,
            "delta": {"type": "thought_signature", "signature": signature},
        },
        {"event_type": "step.stop", "index": 0},
    ]
    reader = StepReader(lambda part: None)
    for data in events:
        reader.event(_event(data))
    (step,) = model_steps(types.Content(role="model", parts=reader.parts))
    assert step["signature"] == signature


def test_an_unknown_delta_in_a_text_is_named_once_after_it() -> None:
    events = [
        {"event_type": "step.start", "index": 0, "step": {"type": "model_output"}},
        {"event_type": "step.delta", "index": 0, "delta": {"type": "text", "text": "one "}},
        {"event_type": "step.delta", "index": 0, "delta": {"type": "sparkle"}},
        {"event_type": "step.delta", "index": 0, "delta": {"type": "text", "text": "two"}},
        {"event_type": "step.delta", "index": 0, "delta": {"type": "sparkle"}},
        {"event_type": "step.stop", "index": 0},
    ]
    reader = StepReader(lambda part: None)
    for data in events:
        reader.event(_event(data))
    reader.finish()
    text, placeholder = merge_parts(reader.parts)
    assert text.text == "one two"
    assert placeholder.part_metadata == {UNKNOWN_KEY: "delta sparkle"}


def test_an_image_that_is_not_base64_is_our_error() -> None:
    reader = StepReader(lambda part: None)
    with pytest.raises(GeminiAPIError, match="image that could not be decoded"):
        reader.event(
            _event(
                {
                    "event_type": "step.delta",
                    "index": 0,
                    "delta": {"type": "image", "data": "a", "mime_type": "image/png"},
                }
            )
        )
