"""Interactions events as the SDK parses them, read into parts (pure: no server)."""

from __future__ import annotations

import json

import pytest
from google.genai._gaos.types import interactions
from google.genai._gaos.utils.serializers import unmarshal_json

from gemini_magic.api.steps import StepReader, history_steps, model_steps
from gemini_magic.display.stream import StreamView
from gemini_magic.errors import GeminiAPIError


def _event(data: dict) -> object:
    """One SSE event exactly as the SDK's stream yields it."""
    return unmarshal_json(json.dumps({"data": data}), interactions.InteractionSSEStreamEvent).data


def _read(*events: dict) -> StepReader:
    reader = StepReader(lambda part: None)
    for data in events:
        reader.event(_event(data))
    return reader


def test_code_result_and_text_become_parts_in_order():
    reader = _read(
        {
            "event_type": "step.start",
            "index": 0,
            "step": {
                "type": "code_execution_call",
                "id": "c1",
                "arguments": {"code": "print(2)", "language": "python"},
                "signature": "c2lnMQ==",
            },
        },
        {"event_type": "step.stop", "index": 0},
        {
            "event_type": "step.start",
            "index": 1,
            "step": {"type": "code_execution_result", "call_id": "c1", "result": ""},
        },
        {
            "event_type": "step.delta",
            "index": 1,
            "delta": {"type": "code_execution_result", "result": "Traceback...", "is_error": True},
        },
        {"event_type": "step.stop", "index": 1},
        {"event_type": "step.start", "index": 2, "step": {"type": "model_output"}},
        {"event_type": "step.delta", "index": 2, "delta": {"type": "text", "text": "Done."}},
        {"event_type": "step.stop", "index": 2},
    )
    code, result, text = reader.parts
    assert code.executable_code.code == "print(2)" and code.thought_signature == b"sig1"
    assert result.code_execution_result.outcome == "OUTCOME_FAILED"
    assert result.code_execution_result.id == "c1"
    assert text.text == "Done."


def test_an_unknown_step_is_a_short_placeholder_not_a_crash():
    reader = _read({"event_type": "step.start", "index": 0, "step": {"type": "hologram"}})
    (part,) = reader.parts
    view = StreamView(display=lambda obj, **kw: None)
    view.add(part)
    (block,) = view.blocks
    assert "hologram" in block._plain()


def test_an_error_event_fails_the_turn_in_one_line():
    with pytest.raises(GeminiAPIError, match="overloaded"):
        _read({"event_type": "error", "error": {"code": "unavailable", "message": "overloaded"}})


def test_a_malformed_event_the_sdk_yields_as_text_fails_the_turn():
    reader = StepReader(lambda part: None)
    with pytest.raises(GeminiAPIError, match="could not be read"):
        reader.event('{"event_type": "step.delta", "ind')


def test_recorded_turns_go_back_as_steps_with_their_signatures():
    reader = _read(
        {"event_type": "step.start", "index": 0, "step": {"type": "thought", "signature": "dA=="}},
        {"event_type": "step.stop", "index": 0},
        {
            "event_type": "step.start",
            "index": 1,
            "step": {
                "type": "code_execution_call",
                "id": "c",
                "arguments": {"code": "1"},
                "signature": "Yw==",
            },
        },
        {"event_type": "step.stop", "index": 1},
        {
            "event_type": "step.start",
            "index": 2,
            "step": {"type": "model_output", "content": [{"type": "text", "text": "one"}]},
        },
    )
    from google.genai import types

    steps = model_steps(types.Content(role="model", parts=reader.parts))
    assert [s["type"] for s in steps] == ["thought", "code_execution_call", "model_output"]
    assert steps[0]["signature"] == "dA==" and steps[1]["signature"] == "Yw=="
    user = types.Content(role="user", parts=[types.Part(text="q")])
    (first, *_rest) = history_steps([(user, types.Content(role="model", parts=reader.parts))])
    assert first == {"type": "user_input", "content": [{"type": "text", "text": "q"}]}
