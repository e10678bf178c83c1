"""Faults on demand, as the real google-genai SDK sees them."""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

import httpx2
import pytest
from google import genai
from google.genai import errors, types

from gemini_magic.emulator import Emulator
from gemini_magic.errors import ConfigurationError

MODEL = "gemini-2.5-flash"
LONG_TEXT = "The emulator streams this sentence in several pieces, one event at a time. " * 3
REPLIES = [{"match": "tell", "parts": [{"text": LONG_TEXT}]}]


@pytest.fixture
def replies() -> list[dict]:
    """The script the `client` fixture gives the emulator."""
    return REPLIES


def control(emulator: Emulator, action: str, body: dict[str, Any] | None = None) -> Any:
    """Call the emulator's HTTP control API (the SDK never uses these paths)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{emulator.url}/_emulator/{action}",
        data=data,
        method="GET" if data is None else "POST",
        headers={"x-goog-api-key": emulator.key},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def ask(client: genai.Client) -> types.GenerateContentResponse:
    return client.models.generate_content(model=MODEL, contents="tell me")


@pytest.mark.parametrize(
    ("code", "status", "error_class"),
    [
        (400, "INVALID_ARGUMENT", errors.ClientError),
        (403, "PERMISSION_DENIED", errors.ClientError),
        (404, "NOT_FOUND", errors.ClientError),
        (429, "RESOURCE_EXHAUSTED", errors.ClientError),
        (500, "INTERNAL", errors.ServerError),
        (503, "UNAVAILABLE", errors.ServerError),
    ],
)
def test_status_fault_raises_the_sdks_error_then_clears(
    emulator, client, code, status, error_class
):
    emulator.inject("status", code=code, count=2)
    for _ in range(2):
        with pytest.raises(error_class) as caught:
            ask(client)
        assert (caught.value.code, caught.value.status) == (code, status)
    assert ask(client).candidates[0].content.parts[0].text == LONG_TEXT
    assert [r.status for r in emulator.log] == [code, code, 200]


def test_429_carries_retry_after(emulator, client):
    emulator.inject("status", code=429, retry_after=7)
    with pytest.raises(errors.ClientError) as caught:
        ask(client)
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.details["error"]["details"][0]["retryDelay"] == "7s"


def test_status_fault_on_stream_fails_before_any_chunk(emulator, client):
    emulator.inject("status", code=503)
    chunks = []
    with pytest.raises(errors.ServerError):
        chunks.extend(client.models.generate_content_stream(model=MODEL, contents="tell me"))
    assert chunks == []


def test_sdk_retry_options_recover_from_a_503(emulator):
    emulator.set_replies(REPLIES)
    retrying = genai.Client(
        http_options=types.HttpOptions(
            retry_options=types.HttpRetryOptions(attempts=3, initial_delay=0.01, max_delay=0.02)
        )
    )
    emulator.inject("status", code=503)
    assert ask(retrying).candidates[0].content.parts[0].text == LONG_TEXT
    assert [r.status for r in emulator.log] == [503, 200]


def stream_until_failure(client: genai.Client) -> tuple[list[str], BaseException]:
    texts: list[str] = []
    try:
        for chunk in client.models.generate_content_stream(model=MODEL, contents="tell me"):
            texts.append(chunk.candidates[0].content.parts[0].text)
    except Exception as exc:
        return texts, exc
    raise AssertionError("the stream ended without the injected fault")


def test_error_event_mid_stream_raises_server_error_after_first_chunk(emulator, client):
    emulator.inject("stream_error", code=500, message="boom mid-stream")
    texts, exc = stream_until_failure(client)
    assert isinstance(exc, errors.ServerError) and exc.message == "boom mid-stream"
    assert len(texts) == 1 and LONG_TEXT.startswith(texts[0])


def test_malformed_event_raises_unknown_api_response(emulator, client):
    emulator.inject("malformed_event", after=2)
    texts, exc = stream_until_failure(client)
    assert isinstance(exc, errors.UnknownApiResponseError)
    assert len(texts) == 2


def test_connection_dropped_mid_stream(emulator, client):
    emulator.inject("drop")
    texts, exc = stream_until_failure(client)
    assert isinstance(exc, httpx2.RemoteProtocolError)
    assert len(texts) == 1
    assert ask(client).candidates[0].content.parts[0].text == LONG_TEXT


def test_connection_dropped_in_a_plain_answer(emulator, client):
    emulator.inject("drop")
    with pytest.raises(httpx2.RemoteProtocolError):
        ask(client)


def test_stall_makes_a_client_timeout_fire(emulator):
    emulator.set_replies(REPLIES)
    impatient = genai.Client(http_options=types.HttpOptions(timeout=300))
    emulator.inject("stall", seconds=60)
    with pytest.raises(httpx2.ReadTimeout):
        ask(impatient)


def test_stream_is_delivered_incrementally(emulator, client):
    """A stall after the first event must not hold that event back."""
    emulator.inject("stall", after=1, seconds=60)
    stream = client.models.generate_content_stream(model=MODEL, contents="tell me")
    first = next(iter(stream))
    assert LONG_TEXT.startswith(first.candidates[0].content.parts[0].text)
    threading.Thread(target=emulator.reset, daemon=True).start()  # ends the stall
    stream.close()


def test_huge_reply(emulator, client):
    emulator.inject("huge", size=3_000_000, count=2)
    text = ask(client).candidates[0].content.parts[0].text
    assert len(text) == 3_000_000
    streamed = list(client.models.generate_content_stream(model=MODEL, contents="tell me"))
    assert 1 < len(streamed) <= 201
    assert sum(len(c.candidates[0].content.parts[0].text) for c in streamed) == 3_000_000
    # By path, not position: a handler thread of an earlier test may log late.
    (sync,) = [r for r in emulator.log if r.path.endswith(":generateContent")]
    assert sync.bytes_out > 3_000_000


def test_expired_upload_is_refused_with_403(emulator, client, tmp_path):
    csv = tmp_path / "cache.csv"
    csv.write_text("x\n1\n")
    uploaded = client.files.upload(file=csv, config={"mime_type": "text/csv"})
    assert emulator.inject("expire_file", name=uploaded.name) == [uploaded.name]
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents=[uploaded, "mean of x"])
    assert caught.value.code == 403 and "may not exist" in caught.value.message
    with pytest.raises(errors.ClientError):
        client.files.get(name=uploaded.name)


def test_faults_through_the_http_control_api(emulator, client):
    queued = control(emulator, "faults", {"kind": "status", "code": 500, "count": 1})
    assert queued["pending"] == [
        {"kind": "status", "count": 1, "code": 500, "message": None, "retry_after": None}
    ]
    with pytest.raises(errors.ServerError):
        ask(client)
    ask(client)
    log = control(emulator, "log")["requests"]
    assert [r["status"] for r in log] == [500, 200]
    assert log[0]["body"]["contents"][0]["parts"][0]["text"] == "tell me"
    assert log[0]["headers"]["x-goog-api-key"] == "***"
    assert control(emulator, "config", {"delay": 0.01, "exec_timeout": 5})["delay"] == 0.01
    assert emulator.exec_timeout == 5
    control(emulator, "reset", {})
    assert emulator.log == [] and emulator.delay == 0.0


def test_streaming_with_a_delay_between_events(emulator, client):
    emulator.delay = 0.01
    chunks = list(client.models.generate_content_stream(model=MODEL, contents="tell me"))
    assert "".join(c.candidates[0].content.parts[0].text for c in chunks) == LONG_TEXT
    assert len(chunks) > 3


def test_bad_fault_requests_are_refused(emulator):
    with pytest.raises(ConfigurationError, match="Unknown fault kind 'explode'"):
        emulator.inject("explode")
    with pytest.raises(ConfigurationError, match="needs code=4xx or 5xx"):
        emulator.inject("status", code=200)
    with pytest.raises(ConfigurationError, match="not colour"):
        emulator.inject("drop", colour="red")
    request = urllib.request.Request(
        f"{emulator.url}/_emulator/faults",
        data=b'{"kind": "nope"}',
        method="POST",
        headers={"x-goog-api-key": emulator.key},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 400
    assert "Unknown fault kind" in json.loads(caught.value.read())["error"]["message"]
