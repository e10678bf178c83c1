"""The emulator's REST API driven by the real google-genai SDK (and, for what the SDK
never sends, plain HTTP)."""

from __future__ import annotations

import base64
import json
import math
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from google import genai
from google.genai import errors, types

from gemini_magic.emulator import OFFLINE_MARK

MODEL = "gemini-2.5-flash"
CODE_EXECUTION = types.GenerateContentConfig(
    tools=[types.Tool(code_execution=types.ToolCodeExecution())]
)
FACTORIAL = [
    {
        "match": r"factorial of (\d+)",
        "parts": [
            {"text": "I will compute the factorial with Python's math module, then report it."},
            {"code": "import math\nprint(math.factorial(10))"},
            {"text": "The factorial of 10 is {output}."},
        ],
    }
]


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """Plain HTTP POST for requests the SDK would never send; returns (status, JSON)."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_generate_content_runs_scripted_code_and_quotes_its_output(emulator, client):
    emulator.set_replies(FACTORIAL)
    response = client.models.generate_content(
        model=MODEL, contents="What is the factorial of 10?", config=CODE_EXECUTION
    )
    parts = response.candidates[0].content.parts
    assert parts[1].executable_code.code == "import math\nprint(math.factorial(10))"
    assert parts[2].code_execution_result.outcome == types.Outcome.OUTCOME_OK
    assert parts[2].code_execution_result.output == "3628800\n"
    assert parts[3].text == "The factorial of 10 is 3628800."
    assert response.model_version == f"{MODEL}-{OFFLINE_MARK}"
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    [logged] = emulator.log
    assert logged.path == f"/v1/models/{MODEL}:generateContent"
    assert logged.headers["x-goog-api-key"] == "***"
    assert logged.body["contents"][0]["parts"][0]["text"] == "What is the factorial of 10?"
    assert logged.status == 200 and logged.bytes_in == len(logged.raw) > 0
    assert logged.bytes_out > 0


def test_stream_splits_text_and_keeps_code_parts_whole(emulator, client):
    emulator.set_replies(FACTORIAL)
    chunks = list(
        client.models.generate_content_stream(
            model=MODEL, contents="factorial of 10", config=CODE_EXECUTION
        )
    )
    parts = [p for c in chunks for p in c.candidates[0].content.parts]
    first_text = [p.text for p in parts[:2]]
    assert len(chunks) == len(parts) >= 5
    assert all(t is not None for t in first_text)
    assert "".join(first_text) == FACTORIAL[0]["parts"][0]["text"]
    assert parts[2].executable_code.code == FACTORIAL[0]["parts"][1]["code"]
    assert parts[3].code_execution_result.output == "3628800\n"
    assert [c.candidates[0].finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert chunks[-1].usage_metadata.total_token_count > 0
    assert all(c.usage_metadata is None for c in chunks[:-1])
    assert emulator.log[0].path.endswith(":streamGenerateContent")
    assert emulator.log[0].query == {"alt": "sse"}


def test_streamed_and_plain_answers_report_the_same_deterministic_usage(emulator, client):
    emulator.set_replies(FACTORIAL)
    prompt = "Please compute the factorial of 10."
    first = client.models.generate_content(model=MODEL, contents=prompt, config=CODE_EXECUTION)
    again = client.models.generate_content(model=MODEL, contents=prompt, config=CODE_EXECUTION)
    streamed = list(
        client.models.generate_content_stream(model=MODEL, contents=prompt, config=CODE_EXECUTION)
    )
    usage = first.usage_metadata
    assert usage.prompt_token_count == math.ceil(len(prompt) / 4)
    assert usage.total_token_count == (
        usage.prompt_token_count + usage.candidates_token_count + usage.tool_use_prompt_token_count
    )
    assert again.usage_metadata == usage
    assert streamed[-1].usage_metadata == usage


def test_two_turn_chat_resends_the_first_turns_code_parts(emulator, client):
    emulator.set_replies(
        [*FACTORIAL, {"match": "double", "parts": [{"code": "print(2 * 3628800)"}]}]
    )
    chat = client.chats.create(model=MODEL, config=CODE_EXECUTION)
    chat.send_message("factorial of 10")
    second = chat.send_message("Now double it")
    assert second.candidates[0].content.parts[1].code_execution_result.output == "7257600\n"
    contents = emulator.log[-1].body["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    model_keys = [key for part in contents[1]["parts"] for key in part]
    assert {"executableCode", "codeExecutionResult"} <= set(model_keys)


def test_uploaded_csv_is_used_by_a_later_prompt(emulator, client, tmp_path):
    csv = tmp_path / "sales.csv"
    csv.write_text("region,amount\nnorth,10\nsouth,32\nnorth,5\n")
    uploaded = client.files.upload(
        file=csv, config={"mime_type": "text/csv", "display_name": "sales.csv"}
    )
    assert uploaded.state == types.FileState.ACTIVE
    assert uploaded.size_bytes == csv.stat().st_size
    assert client.files.get(name=uploaded.name).display_name == "sales.csv"
    emulator.set_replies(
        [{"match": "files", "parts": [{"code": "import os\nprint(sorted(os.listdir()))"}]}]
    )
    answer = client.models.generate_content(
        model=MODEL, contents=[uploaded, "Which files do you see?"], config=CODE_EXECUTION
    )
    listing = answer.candidates[0].content.parts[1].code_execution_result.output
    assert listing.strip() == "['input_file_0.csv', 'sales.csv']"
    sent = emulator.log[-1].body["contents"][0]["parts"][0]
    assert sent["fileData"]["file_uri"] == uploaded.uri
    start, data = emulator.log[0], emulator.log[1]
    assert start.path == "/upload/v1/files" and start.headers["x-goog-upload-command"] == "start"
    assert data.raw == csv.read_bytes() and "x-goog-api-key" not in data.headers


def test_deleted_file_is_refused_like_the_service(emulator, client, tmp_path):
    csv = tmp_path / "a.csv"
    csv.write_text("x\n1\n")
    uploaded = client.files.upload(file=csv, config={"mime_type": "text/csv"})
    client.files.delete(name=uploaded.name)
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents=[uploaded, "mean of x"])
    file_id = uploaded.name.removeprefix("files/")
    assert caught.value.code == 403 and caught.value.status == "PERMISSION_DENIED"
    assert caught.value.message == (
        f"You do not have permission to access the File {file_id} or it may not exist."
    )


def test_v1beta_prefix_is_served(emulator, monkeypatch):
    monkeypatch.setenv("GOOGLE_GENAI_API_VERSION", "v1beta")
    client = genai.Client()
    emulator.set_replies([{"match": "hi", "parts": [{"text": "Hello from v1beta."}]}])
    response = client.models.generate_content(model=MODEL, contents="hi")
    assert response.candidates[0].content.parts[0].text == "Hello from v1beta."
    assert emulator.log[0].path == f"/v1beta/models/{MODEL}:generateContent"


def test_snake_case_request_with_standard_base64_gets_camel_case_reply(emulator):
    csv = base64.b64encode(b"x\n1\n2\n6\n").decode()
    body = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"inline_data": {"mime_type": "text/csv", "data": csv}},
                    {"text": "what is the mean of x"},
                ],
            }
        ],
        "tools": [{"code_execution": {}}],
        "generation_config": {"temperature": 0},
    }
    status, reply = post(
        f"{emulator.url}/v1beta/models/{MODEL}:generateContent",
        json.dumps(body).encode(),
        {"x-goog-api-key": emulator.key, "Content-Type": "application/json"},
    )
    assert status == 200
    keys = [next(iter(p)) for p in reply["candidates"][0]["content"]["parts"]]
    assert keys == ["text", "executableCode", "codeExecutionResult", "text"]
    assert {"usageMetadata", "modelVersion", "responseId"} <= set(reply)
    assert (
        "mean of x: 3"
        in reply["candidates"][0]["content"]["parts"][2]["codeExecutionResult"][
            "output"
        ].splitlines()
    )


def test_url_safe_base64_inline_csv_is_decoded(emulator, client):
    data = "name,value\n\u00e9\u00e8>?>?,7\n\u00ff\u00fe~~,9\n".encode()
    assert {"-", "_"} & set(base64.urlsafe_b64encode(data).decode())
    response = client.models.generate_content(
        model=MODEL,
        contents=[types.Part.from_bytes(data=data, mime_type="text/csv"), "sum of value"],
        config=CODE_EXECUTION,
    )
    sent = emulator.log[0].body["contents"][0]["parts"][0]["inlineData"]["data"]
    assert {"-", "_"} & set(sent)
    output = response.candidates[0].content.parts[2].code_execution_result.output
    assert "sum of value: 16" in output.splitlines()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", "Invalid JSON payload"),
        (b"", "body is empty"),
        (b"[1, 2]", "must be an object"),
        (b"{}", "contents is not specified"),
        (b'{"contents": [{"role": "user", "parts": [{"txet": "hi"}]}]}', 'Unknown name "txet"'),
        (b'{"contents": [{"role": "robot", "parts": [{"text": "hi"}]}]}', "valid role"),
        (
            b'{"contents": [{"parts": [{"inlineData": {"mimeType": "text/csv", "data": 5}}]}]}',
            "base64",
        ),
        (b'{"contents": [{"parts": [{"fileData": {"fileUri": "nope"}}]}]}', "not a file URI"),
        (b'{"contents": "hello"}', "expected a list"),
    ],
)
def test_unparseable_request_gets_400_naming_the_problem(emulator, body, expected):
    url = f"{emulator.url}/v1/models/{MODEL}:generateContent"
    status, reply = post(url, body, {"x-goog-api-key": emulator.key})
    assert status == 400
    assert reply["error"]["status"] == "INVALID_ARGUMENT" and reply["error"]["code"] == 400
    assert expected in reply["error"]["message"]
    good = b'{"contents": [{"parts": [{"text": "still alive?"}]}]}'
    assert post(url, good, {"x-goog-api-key": emulator.key})[0] == 200


def test_request_without_api_key_is_refused_with_403(emulator):
    status, reply = post(
        f"{emulator.url}/v1/models/{MODEL}:generateContent",
        b'{"contents": [{"parts": [{"text": "hi"}]}]}',
    )
    assert status == 403
    assert reply["error"]["status"] == "PERMISSION_DENIED"
    assert "API key" in reply["error"]["message"]


def test_unknown_path_gets_404_json(emulator):
    status, reply = post(
        f"{emulator.url}/v1/models/{MODEL}:explode", b"{}", {"x-goog-api-key": emulator.key}
    )
    assert status == 404 and reply["error"]["status"] == "NOT_FOUND"


def test_unscripted_prompt_without_data_says_there_is_no_offline_answer(emulator, client):
    response = client.models.generate_content(model=MODEL, contents="Write me a sonnet.")
    [part] = response.candidates[0].content.parts
    assert "offline emulator has no answer for this prompt" in part.text
    assert response.model_version.endswith(OFFLINE_MARK)


def test_keep_alive_connection_serves_many_requests(emulator, client):
    emulator.set_replies([{"match": "ping", "parts": [{"text": "pong"}]}])
    before = emulator.connections_accepted
    answers = [
        client.models.generate_content(model=MODEL, contents="ping").candidates[0].content.parts[0]
        for _ in range(5)
    ]
    assert [a.text for a in answers] == ["pong"] * 5
    assert len(emulator.log) == 5
    assert emulator.connections_accepted - before == 1


def test_importing_the_emulator_stays_cheap():
    probe = (
        "import sys, gemini_magic.emulator\n"
        "print(sorted(m for m in ('pandas', 'matplotlib', 'google.genai', 'yaml')"
        " if m in sys.modules))"
    )
    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=root, check=True
    )
    assert done.stdout.strip() == "[]"


def test_thinking_level_is_checked_as_the_service_checks_it(emulator, client):
    emulator.set_replies([{"match": "ping", "parts": [{"text": "pong"}]}])
    low = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(thinking_level="low"))
    assert client.models.generate_content(model=MODEL, contents="ping", config=low).text == "pong"
    with pytest.warns(UserWarning), pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(
            model=MODEL, contents="ping", config={"thinking_config": {"thinking_level": "ultra"}}
        )
    assert caught.value.code == 400
    assert (
        "'ultra'" in caught.value.message and "MINIMAL, LOW, MEDIUM, HIGH" in caught.value.message
    )
