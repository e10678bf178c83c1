"""The emulator's explicit context caches (``cachedContents``), driven by the real SDK."""

from __future__ import annotations

import io
import json
import urllib.request

import pytest
from google import genai
from google.genai import errors, types

MODEL = "gemini-2.5-flash"
CSV = b"x,y\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(1500))  # 17 KB: ~4k tokens
TOOLS = [types.Tool(code_execution=types.ToolCodeExecution())]
REPLY = [{"match": ".", "parts": [{"text": "A short answer."}]}]


@pytest.fixture
def replies() -> list[dict]:
    """The script the `client` fixture gives the emulator."""
    return REPLY


def upload(client: genai.Client, data: bytes = CSV) -> types.File:
    return client.files.upload(
        file=io.BytesIO(data), config=types.UploadFileConfig(mime_type="text/csv")
    )


def history(file: types.File) -> list[types.Content]:
    return [
        types.Content(
            role="user",
            parts=[
                types.Part(text="The file holds the frame `big`."),
                types.Part(file_data=types.FileData(file_uri=file.uri, mime_type="text/csv")),
                types.Part(text="Summarise big."),
            ],
        ),
        types.Content(role="model", parts=[types.Part(text="It has 1,500 rows.")]),
    ]


def make_cache(
    client: genai.Client, contents: list[types.Content], **config
) -> types.CachedContent:
    return client.caches.create(
        model=MODEL,
        config=types.CreateCachedContentConfig(
            contents=contents, system_instruction="Be brief.", tools=TOOLS, **config
        ),
    )


def test_create_reports_name_tokens_and_expiry_from_the_ttl(emulator, client):
    file = upload(client)
    cache = make_cache(client, history(file), ttl="600s", display_name="conversation")
    assert cache.name.startswith("cachedContents/")
    assert cache.model == f"models/{MODEL}"
    assert cache.display_name == "conversation"
    assert 600 - 5 < (cache.expire_time - cache.create_time).total_seconds() <= 600
    # The deterministic counter: the CSV and every text, about 4 characters a token.
    assert cache.usage_metadata.total_token_count > len(CSV) // 4
    request = emulator.log[-1]
    assert (request.method, request.path) == ("POST", "/v1/cachedContents")
    assert {"model", "contents", "systemInstruction", "tools", "ttl"} <= set(request.body)


def test_generate_with_the_cache_prepends_it_and_reports_cached_tokens(emulator, client):
    file = upload(client)
    cache = make_cache(client, history(file))
    plain = client.models.generate_content(
        model=MODEL,
        contents=[*history(file), "Which x is largest?"],
        config=types.GenerateContentConfig(system_instruction="Be brief.", tools=TOOLS),
    )
    cached = client.models.generate_content(
        model=MODEL,
        contents="Which x is largest?",
        config=types.GenerateContentConfig(cached_content=cache.name),
    )
    usage = cached.usage_metadata
    # The model saw the same prompt: the same prompt tokens, now mostly from the cache.
    assert usage.prompt_token_count == plain.usage_metadata.prompt_token_count
    assert usage.cached_content_token_count == cache.usage_metadata.total_token_count
    assert usage.prompt_token_count - usage.cached_content_token_count == 5  # the new turn
    assert plain.usage_metadata.cached_content_token_count is None
    assert emulator.log[-1].body["cachedContent"] == cache.name
    assert len(emulator.log[-1].raw) < 300  # only the new turn went over the wire


def test_the_cached_attachment_reaches_the_sandbox(emulator, client):
    emulator.set_replies(
        [{"match": "rows", "parts": [{"code": "import glob\nprint(sorted(glob.glob('*')))"}]}]
    )
    cache = make_cache(client, history(upload(client)))
    response = client.models.generate_content(
        model=MODEL,
        contents="How many rows?",
        config=types.GenerateContentConfig(cached_content=cache.name),
    )
    result = response.candidates[0].content.parts[1].code_execution_result
    assert "input_file_0.csv" in result.output


def test_the_stream_carries_cached_tokens_on_its_last_event(emulator, client):
    cache = make_cache(client, history(upload(client)))
    chunks = list(
        client.models.generate_content_stream(
            model=MODEL,
            contents="Hi",
            config=types.GenerateContentConfig(cached_content=cache.name),
        )
    )
    usage = chunks[-1].usage_metadata
    assert usage.cached_content_token_count == cache.usage_metadata.total_token_count


@pytest.mark.parametrize(
    "config",
    [
        {"system_instruction": "Be brief."},
        {"tools": TOOLS},
        {"tool_config": types.ToolConfig(function_calling_config={"mode": "AUTO"})},
    ],
    ids=["system_instruction", "tools", "tool_config"],
)
def test_cached_content_with_system_instruction_or_tools_is_refused(emulator, client, config):
    cache = make_cache(client, history(upload(client)))
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(
            model=MODEL,
            contents="Hi",
            config=types.GenerateContentConfig(cached_content=cache.name, **config),
        )
    assert caught.value.code == 400
    assert "CachedContent can not be used with GenerateContent request setting" in (
        caught.value.message
    )


def test_a_cache_belongs_to_its_model(emulator, client):
    cache = make_cache(client, history(upload(client)))
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(
            model="gemini-2.5-pro",
            contents="Hi",
            config=types.GenerateContentConfig(cached_content=cache.name),
        )
    assert caught.value.code == 400
    assert "has to be the same" in caught.value.message


def test_a_cache_below_the_models_minimum_is_refused(emulator, client):
    small = [types.Content(role="user", parts=[types.Part(text="too small to cache")])]
    with pytest.raises(errors.ClientError) as caught:
        make_cache(client, small)
    assert caught.value.code == 400
    assert "min_total_token_count=1024" in caught.value.message
    # Pro's minimum is larger: a ~2k-token prefix is enough for Flash, not for Pro.
    file = upload(client, CSV[:8000])
    assert make_cache(client, history(file)).usage_metadata.total_token_count > 1024
    with pytest.raises(errors.ClientError) as caught:
        client.caches.create(
            model="gemini-2.5-pro",
            config=types.CreateCachedContentConfig(contents=history(file)[:1]),
        )
    assert "min_total_token_count=4096" in caught.value.message


def test_expired_deleted_and_unknown_caches_are_403(emulator, client):
    cache = make_cache(client, history(upload(client)))
    assert emulator.inject("expire_cache", name=cache.name) == [cache.name]
    for call in (
        lambda: client.models.generate_content(
            model=MODEL,
            contents="Hi",
            config=types.GenerateContentConfig(cached_content=cache.name),
        ),
        lambda: client.caches.get(name=cache.name),
        lambda: client.caches.delete(name=cache.name),
        lambda: client.caches.get(name="cachedContents/never-made"),
    ):
        with pytest.raises(errors.ClientError) as caught:
            call()
        assert caught.value.code == 403
        assert caught.value.message == "CachedContent not found (or permission denied)"


def test_delete_update_get_and_list(emulator, client):
    first = make_cache(client, history(upload(client)))
    second = make_cache(client, history(upload(client)))
    assert {c.name for c in client.caches.list()} == {first.name, second.name}
    updated = client.caches.update(
        name=first.name, config=types.UpdateCachedContentConfig(ttl="60s")
    )
    assert (updated.expire_time - updated.update_time).total_seconds() == pytest.approx(60, abs=1)
    assert emulator.log[-1].method == "PATCH"
    client.caches.delete(name=second.name)
    assert [c.name for c in client.caches.list()] == [first.name]
    assert client.caches.get(name=first.name).expire_time == updated.expire_time


def test_a_ttl_in_the_past_has_expired(emulator, client):
    cache = make_cache(client, history(upload(client)), ttl="0s")
    with pytest.raises(errors.ClientError) as caught:
        client.caches.get(name=cache.name)
    assert caught.value.code == 403


def test_the_cache_keeps_its_files_after_the_file_expires(emulator, client):
    cache = make_cache(client, history(upload(client)))
    emulator.inject("expire_file")
    response = client.models.generate_content(
        model=MODEL, contents="Hi", config=types.GenerateContentConfig(cached_content=cache.name)
    )
    assert (
        response.usage_metadata.cached_content_token_count == cache.usage_metadata.total_token_count
    )


def test_creating_a_cache_over_an_expired_file_is_403(emulator, client):
    file = upload(client)
    emulator.inject("expire_file")
    with pytest.raises(errors.ClientError) as caught:
        make_cache(client, history(file))
    assert caught.value.code == 403


def test_the_control_api_expires_caches_and_reset_forgets_them(emulator, client):
    cache = make_cache(client, history(upload(client)))
    request = urllib.request.Request(
        f"{emulator.url}/_emulator/faults",
        data=json.dumps({"kind": "expire_cache"}).encode(),
        method="POST",
        headers={"x-goog-api-key": emulator.key},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["expired"] == [cache.name]
    again = make_cache(client, history(upload(client)))
    emulator.reset()
    assert emulator.caches.list() == []
    assert again.name != cache.name


def test_faults_apply_to_cache_requests(emulator, client):
    emulator.inject("status", code=503, path="cachedContents")
    with pytest.raises(errors.ServerError):
        make_cache(client, history(upload(client)))
