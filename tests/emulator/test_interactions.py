"""The emulator's Interactions API, driven by the real google-genai SDK over HTTP."""

from __future__ import annotations

import base64
import io
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from google import genai
from google.genai import _interactions as ix  # the Interactions client's errors
from google.genai import interactions as it  # its types
from PIL import Image

from gemini_magic.emulator import OFFLINE_MARK
from tests.helpers.interaction import (
    CODE,
    CSV,
    MODEL,
    PLOT_TEXT,
    REPLIES,
    control,
    make_client,
    output_texts,
    step_types,
)


@pytest.fixture
def replies() -> list[dict]:
    """The script the `client` fixture gives the emulator."""
    return REPLIES


def test_create_runs_the_scripted_code_and_returns_typed_steps(emulator, client):
    interaction = client.interactions.create(model=MODEL, input="plot it", tools=CODE)
    assert interaction.model == MODEL and interaction.status == "completed"
    assert OFFLINE_MARK in interaction.id
    assert step_types(interaction.steps) == [
        "thought",
        "model_output",
        "code_execution_call",
        "code_execution_result",
        "model_output",
    ]
    thought, first, call, result, last = interaction.steps
    assert isinstance(thought, it.ThoughtStep) and thought.signature and thought.summary is None
    assert isinstance(call, it.CodeExecutionCallStep)
    assert (
        call.arguments.code.startswith("import matplotlib") and call.arguments.language == "python"
    )
    assert isinstance(result, it.CodeExecutionResultStep)
    assert (result.call_id, result.result, result.is_error) == (call.id, "6\n", False)
    assert call.signature and result.signature
    image, text = last.content
    assert Image.open(io.BytesIO(base64.b64decode(image.data))).format == "PNG"
    assert image.mime_type == "image/png" and text.text == "The total is 6."
    assert first.content[0].text == PLOT_TEXT
    usage = interaction.usage
    assert usage.total_tokens == (
        usage.total_input_tokens
        + usage.total_output_tokens
        + usage.total_thought_tokens
        + usage.total_tool_use_tokens
    )
    assert usage.total_tool_use_tokens > 258 and usage.total_thought_tokens > 0
    [logged] = emulator.log
    assert (logged.method, logged.path, logged.status) == ("POST", "/v1/interactions", 200)
    assert logged.body == {"model": MODEL, "input": "plot it", "tools": CODE}
    assert logged.headers["x-goog-api-key"] == "***"


def test_stream_sends_the_documented_event_sequence(emulator, client):
    events = list(client.interactions.create(model=MODEL, input="plot it", tools=CODE, stream=True))
    kinds = [type(e).__name__ for e in events]
    assert kinds[:2] == ["InteractionCreatedEvent", "InteractionStatusUpdate"]
    assert kinds[-1] == "InteractionCompletedEvent"
    created, done = events[0].interaction, events[-1].interaction
    assert (created.status, created.model, done.status, done.model) == (
        "in_progress",
        MODEL,
        "completed",
        MODEL,
    )
    assert created.id == done.id == events[1].interaction_id and OFFLINE_MARK in done.id
    starts = [e for e in events if isinstance(e, it.StepStart)]
    stops = [e for e in events if isinstance(e, it.StepStop)]
    assert [s.index for s in starts] == [s.index for s in stops] == [0, 1, 2, 3, 4]
    assert [type(s.step).__name__ for s in starts] == [
        "ThoughtStep",
        "ModelOutputStep",
        "CodeExecutionCallStep",
        "CodeExecutionResultStep",
        "ModelOutputStep",
    ]
    deltas = [e for e in events if isinstance(e, it.StepDelta)]
    by_index = {i: [d.delta for d in deltas if d.index == i] for i in range(5)}
    assert [type(d).__name__ for d in by_index[0]] == ["ThoughtSignatureDelta"]
    texts = [d.text for d in by_index[1]]
    assert len(texts) > 1 and "".join(texts) == PLOT_TEXT
    [call] = by_index[2]
    assert isinstance(call, it.CodeExecutionCallDelta) and "plt.plot" in call.arguments.code
    assert starts[2].step.id and call.signature
    [result] = by_index[3]
    assert isinstance(result, it.CodeExecutionResultDelta)
    assert (result.result, result.is_error, starts[3].step.call_id) == (
        "6\n",
        False,
        starts[2].step.id,
    )
    image, text = by_index[4]
    assert isinstance(image, it.ImageDelta) and image.mime_type == "image/png"
    assert base64.b64decode(image.data).startswith(b"\x89PNG")
    assert text.text == "The total is 6."
    plain = client.interactions.create(model=MODEL, input="plot it", tools=CODE)
    fields = ("total_input_tokens", "total_output_tokens", "total_tool_use_tokens", "total_tokens")
    assert [getattr(done.usage, f) for f in fields] == [getattr(plain.usage, f) for f in fields]
    assert emulator.log[0].body["stream"] is True
    assert emulator.log[0].headers["accept"] == "text/event-stream"


def test_thinking_summaries_come_as_a_thought_summary_delta(emulator, client):
    config = {"thinking_level": "low", "thinking_summaries": "auto"}
    stream = client.interactions.create(
        model=MODEL, input="plot it", generation_config=config, stream=True
    )
    deltas = [e.delta for e in stream if isinstance(e, it.StepDelta) and e.index == 0]
    assert [type(d).__name__ for d in deltas] == ["ThoughtSummaryDelta", "ThoughtSignatureDelta"]
    assert deltas[0].content.text == "A line chart of three points, then their sum."
    whole = client.interactions.create(model=MODEL, input="plot it", generation_config=config)
    assert whole.steps[0].summary[0].text == "A line chart of three points, then their sum."


def test_failed_code_is_an_error_result(emulator, client):
    interaction = client.interactions.create(model=MODEL, input="make it fail", tools=CODE)
    result = interaction.steps[2]
    assert result.is_error is True and "ValueError: no good" in result.result


def test_v1beta_serves_the_same_api(emulator):
    emulator.set_replies(REPLIES)
    client = make_client(emulator, api_version="v1beta")
    first = client.interactions.create(model=MODEL, input="ping")
    assert output_texts(first.steps) == ["pong"]
    assert client.interactions.get(first.id).status == "completed"
    assert [r.path for r in emulator.log] == [
        "/v1beta/interactions",
        f"/v1beta/interactions/{first.id}",
    ]


def test_previous_interaction_id_continues_the_stored_conversation(emulator, client):
    document = {"type": "document", "mime_type": "text/csv", "data": base64.b64encode(CSV).decode()}
    first = client.interactions.create(
        model=MODEL, input=[document, {"type": "text", "text": "Here is my data."}], tools=CODE
    )
    second = client.interactions.create(
        model=MODEL,
        input="What is the mean of sales?",
        previous_interaction_id=first.id,
        tools=CODE,
    )
    assert "mean of sales: **20**" in output_texts(second.steps)[-1]
    assert emulator.log[1].body == {
        "model": MODEL,
        "input": "What is the mean of sales?",
        "previous_interaction_id": first.id,
        "tools": CODE,
    }
    assert second.usage.total_input_tokens > first.usage.total_input_tokens
    got = client.interactions.get(second.id)
    assert got.previous_interaction_id == first.id
    assert step_types(got.steps)[0] == "user_input"
    assert got.steps[0].content[0].text == "What is the mean of sales?"


def test_csv_uploaded_with_the_files_api_is_read_by_uri(emulator, client, tmp_path):
    path = tmp_path / "sales.csv"
    path.write_bytes(CSV)
    uploaded = client.files.upload(file=path, config={"mime_type": "text/csv"})
    document = {"type": "document", "mime_type": "text/csv", "uri": uploaded.uri}
    interaction = client.interactions.create(
        model=MODEL, input=[document, {"type": "text", "text": "total sales"}], tools=CODE
    )
    assert "sum of sales: **40**" in output_texts(interaction.steps)[-1]
    call = interaction.steps[2]
    assert "df_file = 'input_file_0.csv'\ndf = pd.read_csv(df_file)" in call.arguments.code


def test_get_delete_and_cancel(emulator, client):
    interaction = client.interactions.create(model=MODEL, input="ping")
    got = client.interactions.get(interaction.id)
    assert step_types(got.steps) == ["user_input", "thought", "model_output"]
    cancelled = client.interactions.cancel(interaction.id)
    assert (cancelled.id, cancelled.status) == (interaction.id, "cancelled")
    assert client.interactions.delete(interaction.id) is None
    assert emulator.log[-1].status == 200 and emulator.log[-1].method == "DELETE"
    with pytest.raises(ix.NotFoundError) as caught:
        client.interactions.get(interaction.id)
    assert caught.value.body["error"]["code"] == "not_found"
    assert emulator.log[1].query == {"stream": "false"}


def test_interactions_are_kept_per_api_key(emulator, client):
    mine = client.interactions.create(model=MODEL, input="ping")
    other = make_client(emulator, key=emulator.add_key())
    with pytest.raises(ix.NotFoundError):
        other.interactions.get(mine.id)
    with pytest.raises(ix.NotFoundError) as caught:
        other.interactions.create(model=MODEL, input="ping", previous_interaction_id=mine.id)
    assert caught.value.body == {
        "error": {"code": "not_found", "message": f"Interaction {mine.id!r} was not found."}
    }
    with pytest.raises(ix.NotFoundError):
        other.interactions.delete(mine.id)
    assert client.interactions.get(mine.id).status == "completed"


def test_unknown_previous_interaction_id_is_404(emulator, client):
    with pytest.raises(ix.NotFoundError):
        client.interactions.create(model=MODEL, input="ping", previous_interaction_id="v1_nope")
    assert emulator.interactions.list() == []


def test_store_false_keeps_nothing(emulator, client):
    interaction = client.interactions.create(model=MODEL, input="ping", store=False)
    assert output_texts(interaction.steps) == ["pong"]
    with pytest.raises(ix.NotFoundError):
        client.interactions.get(interaction.id)
    with pytest.raises(ix.NotFoundError):
        client.interactions.create(
            model=MODEL, input="ping", previous_interaction_id=interaction.id
        )


def test_expiring_every_interaction_breaks_the_chain(emulator, client):
    first = client.interactions.create(model=MODEL, input="ping")
    second = client.interactions.create(model=MODEL, input="ping")
    assert sorted(emulator.inject("expire_interaction")) == sorted([first.id, second.id])
    with pytest.raises(ix.NotFoundError):
        client.interactions.create(model=MODEL, input="ping", previous_interaction_id=first.id)
    third = client.interactions.create(model=MODEL, input="ping")
    answer = control(emulator, "faults", {"kind": "expire_interaction", "name": third.id})
    assert answer["expired"] == [third.id]
    with pytest.raises(ix.NotFoundError):
        client.interactions.get(third.id)


def test_stateless_history_as_steps_gives_the_model_its_context(emulator, client):
    document = {"type": "document", "mime_type": "text/csv", "data": base64.b64encode(CSV).decode()}
    first = client.interactions.create(
        model=MODEL, input=[document, {"type": "text", "text": "Keep this."}], store=False
    )
    history = [
        {"type": "user_input", "content": [document, {"type": "text", "text": "Keep this."}]},
        *[s.model_dump(mode="json", exclude_none=True) for s in first.steps],
        {"type": "user_input", "content": [{"type": "text", "text": "max of sales"}]},
    ]
    assert history[1]["type"] == "thought" and history[1]["signature"]
    second = client.interactions.create(model=MODEL, input=history, store=False, tools=CODE)
    assert "max of sales: **30**" in output_texts(second.steps)[-1]
    assert emulator.log[-1].body["input"][1]["signature"] == first.steps[0].signature


def test_system_instruction_and_generation_config_are_accepted(emulator, client):
    config = {"temperature": 0.2, "max_output_tokens": 256, "thinking_level": "high"}
    interaction = client.interactions.create(
        model=MODEL, input="ping", system_instruction="Be brief.", generation_config=config
    )
    assert output_texts(interaction.steps) == ["pong"]
    assert emulator.log[0].body["generation_config"] == config
    assert emulator.log[0].body["system_instruction"] == "Be brief."


def test_invalid_thinking_level_is_refused_naming_the_allowed_values(emulator, client):
    with pytest.raises(ix.BadRequestError) as caught:
        client.interactions.create(
            model=MODEL, input="ping", generation_config={"thinking_level": "ultra"}
        )
    error = caught.value.body["error"]
    assert error["code"] == "invalid_request"
    assert "'ultra'" in error["message"] and "minimal, low, medium, high" in error["message"]
    assert emulator.interactions.list() == []


def test_bad_input_is_an_invalid_request(emulator, client):
    with pytest.raises(ix.BadRequestError) as caught:
        client.interactions.create(model=MODEL, input=[{"type": "txet", "text": "hi"}])
    assert "'txet'" in caught.value.body["error"]["message"]


def test_the_command_line_emulator_serves_both_apis(tmp_path):
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps(REPLIES), encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    key_file = tmp_path / "key"
    command = [sys.executable, "-m", "gemini_magic.emulator", "--replies", str(replies)]
    command += ["--key-file", str(key_file)]
    server = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        first_line = server.stdout.readline()
        url = first_line.rsplit(" ", 1)[-1].strip()
        key = key_file.read_text().strip()
        client = genai.Client(api_key=key, http_options={"base_url": url})
        interaction = client.interactions.create(model=MODEL, input="ping")
        answer = client.models.generate_content(model=MODEL, contents="ping")
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=10)
    assert url.startswith("http://127.0.0.1:")
    assert output_texts(interaction.steps) == ["pong"] and OFFLINE_MARK in interaction.id
    assert answer.text == "pong" and answer.model_version == f"{MODEL}-{OFFLINE_MARK}"
    assert server.returncode == 0


def test_cancel_during_a_stream_ends_it_cancelled(emulator, client):
    emulator.delay = 0.05
    stream = client.interactions.create(model=MODEL, input="plot it", tools=CODE, stream=True)
    events = [next(stream)]
    cancelled = client.interactions.cancel(events[0].interaction.id)
    events.extend(stream)
    assert cancelled.status == "cancelled"
    assert events[-1].interaction.status == "cancelled"
    assert not any(isinstance(e, it.StepStart) and e.index == 4 for e in events)


def test_models_list_current_models_first(emulator, client):
    names = [m.name for m in client.models.list()]
    assert names[0] == "models/gemini-3.8-flash" and "models/gemini-2.5-flash" in names


def test_get_with_stream_replays_the_stored_interaction(emulator, client):
    created = client.interactions.create(model=MODEL, input="plot it", tools=CODE)
    events = list(client.interactions.get(created.id, stream=True))
    assert emulator.log[-1].query == {"stream": "true"}
    assert isinstance(events[0], it.InteractionCreatedEvent)
    assert isinstance(events[-1], it.InteractionCompletedEvent)
    assert events[-1].interaction.id == created.id
    starts = [e.step for e in events if isinstance(e, it.StepStart)]
    assert [s.type for s in starts] == ["user_input", *step_types(created.steps)]
    assert starts[0].content[0].text == "plot it"
    deltas = [e.delta for e in events if isinstance(e, it.StepDelta)]
    texts = "".join(d.text for d in deltas if isinstance(d, it.TextDelta))
    assert texts == PLOT_TEXT + "The total is 6."
    [call] = [d for d in deltas if isinstance(d, it.CodeExecutionCallDelta)]
    assert call.signature == created.steps[2].signature
