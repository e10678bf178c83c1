"""Faults on the emulator's Interactions path, as the real SDK sees them: statuses with
Retry-After, an error event, a malformed event, a stall, a dropped connection, a reply
from another model, and the Interactions error body."""

from __future__ import annotations

from typing import Any

import pytest
from google.genai import _interactions as ix  # the Interactions client's errors
from google.genai import interactions as it  # its types

from gemini_magic.emulator import OFFLINE_MARK
from tests.helpers.interaction import MODEL, REPLIES, control, make_client, output_texts, raw


@pytest.fixture
def replies() -> list[dict]:
    """The script the `client` fixture gives the emulator."""
    return REPLIES


@pytest.mark.parametrize(
    ("code", "error_class", "word"),
    [
        (400, ix.BadRequestError, "invalid_request"),
        (403, ix.PermissionDeniedError, "permission_denied"),
        (429, ix.RateLimitError, "resource_exhausted"),
        (500, ix.InternalServerError, "internal"),
        (503, ix.InternalServerError, "unavailable"),
    ],
)
def test_status_fault_raises_the_interactions_error(emulator, client, code, error_class, word):
    emulator.inject("status", code=code, retry_after=3)
    with pytest.raises(error_class) as caught:
        client.interactions.create(model=MODEL, input="ping", stream=True)
    assert caught.value.status_code == code and caught.value.body["error"]["code"] == word
    assert caught.value.response.headers["retry-after"] == "3"
    assert output_texts(client.interactions.create(model=MODEL, input="ping").steps) == ["pong"]


def test_the_sdk_retries_after_retry_after(emulator):
    emulator.set_replies(REPLIES)
    client = make_client(emulator, retry_options={"attempts": 3})
    emulator.inject("status", code=429, retry_after=1)
    interaction = client.interactions.create(model=MODEL, input="ping")
    assert output_texts(interaction.steps) == ["pong"]
    assert [r.status for r in emulator.log] == [429, 200]


def test_error_event_mid_stream_is_yielded(emulator, client):
    emulator.inject("stream_error", code=503, message="Overloaded, try later.", after=3)
    events = list(client.interactions.create(model=MODEL, input="plot it", stream=True))
    assert [type(e).__name__ for e in events[:3]] == [
        "InteractionCreatedEvent",
        "InteractionStatusUpdate",
        "StepStart",
    ]
    [error] = events[3:]
    assert isinstance(error, it.ErrorEvent)
    assert (error.error.code, error.error.message) == ("unavailable", "Overloaded, try later.")
    interaction_id = events[0].interaction.id
    assert client.interactions.get(interaction_id).status == "failed"


def test_malformed_event_comes_as_a_bare_string(emulator, client):
    emulator.inject("malformed_event", after=2)
    events = list(client.interactions.create(model=MODEL, input="ping", stream=True))
    assert isinstance(events[-1], str) and len(events) == 3


def test_dropped_connection_raises_a_connection_error(emulator, client):
    emulator.inject("drop", after=3)
    seen: list[Any] = []
    with pytest.raises(ix.APIConnectionError):
        seen.extend(client.interactions.create(model=MODEL, input="ping", stream=True))
    emulator.inject("drop")
    with pytest.raises(ix.APIConnectionError):
        client.interactions.create(model=MODEL, input="ping")


def test_stall_mid_stream_meets_the_client_timeout(emulator):
    emulator.set_replies(REPLIES)
    client = make_client(emulator, timeout=500)
    emulator.inject("stall", seconds=10, after=2)
    with pytest.raises(ix.APITimeoutError):
        list(client.interactions.create(model=MODEL, input="ping", stream=True))


def test_finish_fault_leaves_the_interaction_incomplete(emulator, client):
    emulator.inject("finish")
    events = list(client.interactions.create(model=MODEL, input="ping", stream=True))
    assert events[-1].interaction.status == "incomplete"
    assert isinstance(events[-2], it.InteractionStatusUpdate) and events[-2].status == "incomplete"


def test_faults_reach_the_interactions_path_over_http(emulator, client):
    control(emulator, "faults", {"kind": "status", "code": 500, "path": "interactions"})
    assert client.models.generate_content(model=MODEL, contents="ping").text == "pong"
    with pytest.raises(ix.InternalServerError):
        client.interactions.create(model=MODEL, input="ping")


def test_answer_as_names_the_model_that_really_answered(emulator, client):
    emulator.inject("answer_as", model="gemini-3.5-flash-lite", count=2)
    interaction = client.interactions.create(model=MODEL, input="ping")
    answer = client.models.generate_content(model=MODEL, contents="ping")
    assert interaction.model == "gemini-3.5-flash-lite"
    assert answer.model_version == f"gemini-3.5-flash-lite-{OFFLINE_MARK}"
    assert client.interactions.create(model=MODEL, input="ping").model == MODEL


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/v1/interactions", b"{not json", 400, "invalid_request"),
        ("POST", "/v1/interactions", b'{"input": "hi"}', 400, "invalid_request"),
        ("PUT", "/v1/interactions", b"{}", 405, "method_not_allowed"),
        ("GET", "/v1/interactions/v1_x?stream=true", None, 404, "not_found"),
        ("GET", "/v1beta/interactions/v1_x", None, 404, "not_found"),
    ],
)
def test_interactions_errors_use_the_interactions_error_body(
    emulator, method, path, body, status, code
):
    got_status, reply = raw(emulator, method, path, body)
    assert (got_status, set(reply), reply["error"]["code"]) == (status, {"error"}, code)
    assert isinstance(reply["error"]["message"], str) and reply["error"]["message"]
