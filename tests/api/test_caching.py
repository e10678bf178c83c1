"""Explicit context caching through ``%%gemini``, asserted on the emulator's request log.

A frame of ~300 KB of CSV (about 75,000 estimated tokens, over the default
``context_cache_min_tokens`` of 32,768) is attached in turn 1; from turn 2 on, the
history is held by one cache and each request sends only the turns after it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from google.genai import types
from traitlets import TraitError

from gemini_magic.api.caching import estimate_tokens, service_minimum
from tests.helpers.magic import run_cell
from tests.helpers.wire import generate_requests, texts

PLAIN = [{"match": ".", "parts": [{"text": "Noted."}]}]


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "x": rng.normal(size=rows).round(6),
            "y": rng.integers(0, 1_000_000, rows),
            "label": [f"item-{i:07d}" for i in range(rows)],
        }
    )


BIG = make_frame(10_000)  # ~300 KB of CSV: uploaded, and worth caching by default


@pytest.fixture
def plain(emulator_with_replies, ip):
    ip.user_ns["big"] = BIG
    return emulator_with_replies(PLAIN)


def cache_requests(emulator, method: str) -> list:
    return [r for r in emulator.log if "cachedcontents" in r.path.lower() and r.method == method]


def has_file(body: dict) -> bool:
    return any("fileData" in p or "file_data" in p for c in body["contents"] for p in c["parts"])


def ask(ip, prompt: str, line: str = "", cell_id: str | None = None):
    run = run_cell(ip, f"%%gemini {line}\n{prompt}", cell_id=cell_id)
    assert run.success, run.error
    return run


def test_a_long_conversation_over_a_large_frame_uses_one_cache(ip, plain):
    ask(ip, "Summarise {big}.")
    assert not cache_requests(plain, "POST")  # nothing to cache before the first answer
    second = ask(ip, "Question 2?")
    assert "Context cache made" in second.all_text()
    usage_2 = ip.user_ns["_gemini"].usage
    for n in range(3, 6):
        ask(ip, f"Question {n}?")

    (created,) = cache_requests(plain, "POST")  # one cache for the whole conversation
    assert created.status == 200
    (cache,) = plain.caches.list()
    assert has_file(created.body) and "Summarise big.csv." in texts(created.body, "user")
    requests = generate_requests(plain)
    assert not has_file(requests[1].body)  # turn 2 sent only its own prompt
    assert requests[1].body["cachedContent"] == cache.name
    assert texts(requests[1].body, "user") == ["Question 2?"]
    # Turn 5 sends turns 2-4 (after the cache) and itself, never the frame.
    last = requests[-1].body
    assert last["cachedContent"] == cache.name
    assert texts(last, "user") == ["Question 2?", "Question 3?", "Question 4?", "Question 5?"]
    assert not has_file(last)
    # The usage: the cached history is part of the prompt and reported as cached.
    assert usage_2.cached_content_token_count == cache.tokens
    assert usage_2.prompt_token_count - cache.tokens < 20
    assert cache.tokens > len(BIG.to_csv(index=False)) // 4
    # The uploaded frame's size was known: no Files-API look-up for the estimate.
    assert not [r for r in plain.log if r.method == "GET" and "/files/" in r.path]


def test_cached_requests_carry_no_tools_or_system_instruction(ip, plain):
    ip.run_line_magic("config", "GeminiMagics.system_instruction = 'Answer briefly.'")
    ask(ip, "Summarise {big}.")
    ask(ip, "Question 2?")
    (created,) = cache_requests(plain, "POST")
    assert created.body["systemInstruction"]["parts"] == [{"text": "Answer briefly."}]
    assert created.body["tools"] == [{"codeExecution": {}}]
    first, second = generate_requests(plain)
    assert "systemInstruction" in first.body and "tools" in first.body
    assert second.body.get("cachedContent")
    assert not {"systemInstruction", "tools", "toolConfig"} & set(second.body)
    assert second.status == 200


def test_below_the_minimum_no_cache_is_made(ip, plain):
    ip.user_ns["small"] = BIG.head(500)  # ~15 KB: inline, ~4k tokens
    ask(ip, "Summarise {small}.")
    for n in range(2, 5):
        ask(ip, f"Question {n}?")
    assert not cache_requests(plain, "POST")
    assert all("cachedContent" not in r.body for r in generate_requests(plain))
    assert ip.user_ns["_gemini"].usage.cached_content_token_count is None
    ip.user_ns.pop("small")


def test_the_minimum_is_a_setting(ip, plain):
    ip.user_ns["small"] = BIG.head(500)
    ip.run_line_magic("config", "GeminiMagics.context_cache_min_tokens = 2000")
    ask(ip, "Summarise {small}.")
    ask(ip, "Question 2?")
    assert len(cache_requests(plain, "POST")) == 1
    assert "cachedContent" in generate_requests(plain)[-1].body
    ip.user_ns.pop("small")


def test_the_trait_switches_caching_off(ip, plain):
    ip.run_line_magic("config", "GeminiMagics.context_cache = False")
    for prompt in ("Summarise {big}.", "Question 2?", "Question 3?"):
        ask(ip, prompt)
    assert not cache_requests(plain, "POST")
    assert all(has_file(r.body) and "cachedContent" not in r.body for r in generate_requests(plain))


def test_switching_it_off_deletes_the_cache(ip, plain):
    ask(ip, "Summarise {big}.")
    ask(ip, "Question 2?")
    ip.run_line_magic("config", "GeminiMagics.context_cache = False")
    ask(ip, "Question 3?")
    assert len(cache_requests(plain, "DELETE")) == 1
    assert plain.caches.list() == []
    assert has_file(generate_requests(plain)[-1].body)


def test_reset_invalidates_the_cache(ip, plain):
    ask(ip, "Summarise {big}.")
    ask(ip, "Question 2?")
    (cache,) = plain.caches.list()
    run_cell(ip, "%gemini reset")
    ask(ip, "A fresh question?")
    (deleted,) = cache_requests(plain, "DELETE")
    assert deleted.path.endswith(cache.name)
    last = generate_requests(plain)[-1].body
    assert "cachedContent" not in last and texts(last, "user") == ["A fresh question?"]


def test_new_invalidates_the_cache(ip, plain):
    ask(ip, "Summarise {big}.")
    ask(ip, "Question 2?")
    ask(ip, "Start again.", line="--new")
    assert len(cache_requests(plain, "DELETE")) == 1
    assert "cachedContent" not in generate_requests(plain)[-1].body


def test_a_model_change_makes_a_cache_for_that_model(ip, plain):
    ask(ip, "Summarise {big}.")
    ask(ip, "Question 2?")
    ask(ip, "Question 3?", line="-m gemini-2.5-pro")
    assert len(cache_requests(plain, "DELETE")) == 1
    first, second = cache_requests(plain, "POST")
    assert first.body["model"] == "models/gemini-3.8-flash"
    assert second.body["model"] == "models/gemini-2.5-pro"
    last = generate_requests(plain)[-1]
    assert last.status == 200 and last.path.endswith("gemini-2.5-pro:streamGenerateContent")


def test_a_system_instruction_change_makes_a_new_cache(ip, plain):
    ask(ip, "Summarise {big}.")
    ask(ip, "Question 2?")
    ask(ip, "Question 3?", line="-s 'Be terse.'")
    assert len(cache_requests(plain, "DELETE")) == 1
    second = cache_requests(plain, "POST")[1]
    assert second.body["systemInstruction"]["parts"] == [{"text": "Be terse."}]


def test_rerunning_a_cell_inside_the_cached_history_invalidates_it(ip, plain):
    ask(ip, "Summarise {big}.", cell_id="c1")
    ask(ip, "Question 2?", cell_id="c2")
    ask(ip, "Question 3?", cell_id="c3")
    ask(ip, "Summarise {big} again.", cell_id="c1")  # its context: nothing before it
    assert len(cache_requests(plain, "DELETE")) == 1
    rerun = generate_requests(plain)[-1].body
    assert "cachedContent" not in rerun
    assert texts(rerun, "user")[-1] == "Summarise big.csv again."


def test_an_expired_cache_is_made_again_and_the_turn_succeeds(ip, plain):
    ask(ip, "Summarise {big}.")
    ask(ip, "Question 2?")
    (old,) = plain.caches.list()
    assert plain.inject("expire_cache") == [old.name]
    run = ask(ip, "Question 3?")
    assert "context cache had expired" in run.all_text()
    assert ip.user_ns["_gemini"].text == "Noted."
    statuses = [r.status for r in generate_requests(plain)]
    assert statuses == [200, 200, 403, 200]
    (new,) = plain.caches.list()
    assert new.name != old.name
    assert generate_requests(plain)[-1].body["cachedContent"] == new.name
    assert len(cache_requests(plain, "POST")) == 2


def test_a_cache_the_service_refuses_is_not_retried_and_the_turn_succeeds(ip, plain):
    ask(ip, "Summarise {big}.")
    plain.inject("status", code=400, message="Caching is not available.", path="cachedContents")
    run = ask(ip, "Question 2?")
    assert "Context caching is off for this conversation" in run.all_text()
    ask(ip, "Question 3?")
    assert len(cache_requests(plain, "POST")) == 1
    assert all("cachedContent" not in r.body for r in generate_requests(plain))


def test_a_growing_history_gets_a_new_cache_and_the_old_one_is_deleted(ip, plain):
    ip.user_ns["other"] = make_frame(9_000)
    ask(ip, "Summarise {big}.")
    ask(ip, "Compare with {other}.")  # turn 2: cache of turn 1; turn 2 adds a big frame
    ask(ip, "Question 3?")  # the uncached tail (turn 2) is over the minimum: re-cache
    first, second = cache_requests(plain, "POST")
    assert (len(first.body["contents"]), len(second.body["contents"])) == (2, 4)
    (deleted,) = cache_requests(plain, "DELETE")
    assert deleted.path.endswith(generate_requests(plain)[1].body["cachedContent"])
    assert texts(generate_requests(plain)[-1].body, "user") == ["Question 3?"]
    ip.user_ns.pop("other")


def test_closing_the_session_deletes_its_caches(ip, plain):
    ask(ip, "Summarise {big}.")
    ask(ip, "Question 2?")
    ask(ip, "Other topic about {big}?", line="-c second")
    ask(ip, "And then?", line="-c second")
    assert len(plain.caches.list()) == 2
    magics = ip.magics_manager.registry["GeminiMagics"]
    magics.session.close()
    assert plain.caches.list() == []
    assert len(cache_requests(plain, "DELETE")) == 2


def test_settings_below_the_service_minimum_are_refused(ip):
    magics = ip.magics_manager.registry["GeminiMagics"]
    with pytest.raises(TraitError, match="at least 1,024"):
        magics.context_cache_min_tokens = 500
    with pytest.raises(TraitError, match="at least 60"):
        magics.context_cache_ttl = 5
    assert (magics.context_cache_min_tokens, magics.context_cache_ttl) == (32_768, 3600)


def test_the_estimate_counts_text_csv_files_and_images():
    contents = [
        types.Content(
            role="user",
            parts=[
                types.Part(text="x" * 400),
                types.Part(inline_data=types.Blob(data=b"a,b\n" * 100, mime_type="text/csv")),
                types.Part(file_data=types.FileData(file_uri="https://h/v1beta/files/f1")),
            ],
        ),
        types.Content(
            role="model",
            parts=[types.Part(inline_data=types.Blob(data=b"\x89PNG", mime_type="image/png"))],
        ),
    ]
    assert estimate_tokens(contents) == 200 + 258
    assert estimate_tokens(contents, lambda uri: 4000 if uri.endswith("f1") else 0) == 1200 + 258
    assert service_minimum("gemini-2.5-pro") == 4096
    assert service_minimum("gemini-2.5-flash") == 1024
