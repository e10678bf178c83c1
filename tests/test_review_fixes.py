"""Behaviours fixed after review: each case once went wrong in a way a user would notice."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from traitlets import TraitError

from gemini_magic.errors import GeminiAPIError, HistoryError
from tests.helpers.magic import run_cell
from tests.helpers.wire import generate_requests, texts, user_prompts


def test_new_that_fails_keeps_the_old_conversation(ip, emulator):
    assert run_cell(ip, "%%gemini\nFirst question.").success
    run_cell(ip, "%config GeminiMagics.max_retries = 0")
    emulator.inject("status", code=500)
    failed = run_cell(ip, "%%gemini --new\nA fresh start that fails.")
    assert isinstance(failed.error, GeminiAPIError)
    assert run_cell(ip, "%%gemini\nSecond question.").success
    assert user_prompts(generate_requests(emulator)[-1].body) == [
        "First question.",
        "Second question.",
    ]


def test_new_that_succeeds_forgets_the_old_conversation(ip, emulator):
    assert run_cell(ip, "%%gemini\nFirst question.").success
    assert run_cell(ip, "%%gemini --new\nA fresh start.").success
    assert run_cell(ip, "%%gemini\nFollow-up.").success
    assert user_prompts(generate_requests(emulator)[-1].body) == ["A fresh start.", "Follow-up."]


def test_an_unwritable_history_fails_the_cell_but_keeps_the_answer(ip, emulator, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run_cell(ip, f"%config GeminiMagics.history_file = '{blocker / 'h.json'}'")
    run = run_cell(ip, "%%gemini\nhello")
    assert isinstance(run.error, HistoryError)
    assert "could not be saved" in str(run.error)
    assert "offline emulator" in run.all_text()  # the footer was shown
    assert ip.user_ns["_gemini"].text  # and the answer kept
    assert run_cell(ip, "%config GeminiMagics.history_file = ''").success
    assert run_cell(ip, "%%gemini\nhello again").success
    assert user_prompts(generate_requests(emulator)[-1].body) == ["hello", "hello again"]


def test_an_unreadable_retry_after_falls_back_to_the_back_off(ip, emulator):
    run_cell(ip, "%config GeminiMagics.retry_initial_delay = 0.01")
    emulator.inject("status", code=429, retry_after="soon")
    run = run_cell(ip, "%%gemini\nhello")
    assert run.success, run.error
    assert "Retrying in 0.0 s" in run.all_text()


def test_offline_mode_works_where_vertex_ai_is_configured(ip, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL", raising=False)
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "some-project")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "us-central1")
    try:
        assert run_cell(ip, "%gemini offline on").success
        run = run_cell(ip, "%%gemini\nhello")
        assert run.success, run.error
        assert "offline emulator" in run.all_text()
    finally:
        run_cell(ip, "%gemini offline off")


def test_an_answer_cut_short_by_the_service_says_so(ip, emulator):
    emulator.inject("finish", reason="MAX_TOKENS")
    run = run_cell(ip, "%%gemini\nTell me everything.")
    assert run.success, run.error
    assert "ended early (finish reason MAX_TOKENS)" in run.all_text()


def test_moving_the_history_onto_another_conversation_is_refused(ip, emulator, tmp_path):
    other = tmp_path / "other.gemini-history.json"
    other.write_text(
        json.dumps(
            {"format": "gemini-magic-conversations", "version": 1, "conversations": {"default": []}}
        )
    )
    before = other.read_bytes()
    assert run_cell(ip, "%%gemini\nhello").success
    magics = ip.magics_manager.registry["GeminiMagics"]
    with pytest.raises(TraitError, match="already holds a conversation"):
        magics.history_file = str(other)
    run_cell(ip, f"%config GeminiMagics.history_file = '{other}'")  # logs the same error
    assert magics.history_file == "auto"
    assert other.read_bytes() == before
    assert run_cell(ip, "%%gemini\nstill here?").success
    assert user_prompts(generate_requests(emulator)[-1].body) == ["hello", "still here?"]


def test_the_same_frame_under_two_names_is_two_files(ip, emulator):
    frame = pd.DataFrame({"x": range(20_000), "label": [f"row {i}" for i in range(20_000)]})
    ip.user_ns.update(first=frame, second=frame)
    run_cell(ip, "%config GeminiMagics.upload_threshold = 1000")
    assert run_cell(ip, "%%gemini\nSummarise {first}.").success
    assert run_cell(ip, "%%gemini\nSummarise {second}.").success
    starts = [
        r.body["file"].get("displayName") or r.body["file"].get("display_name")
        for r in emulator.log
        if r.path.startswith("/upload/") and r.body
    ]
    assert starts == ["first.csv", "second.csv"]


def test_two_prompts_from_one_cell_are_two_turns(ip, emulator):
    code = "for q in ['One?', 'Two?']:\n    get_ipython().run_cell_magic('gemini', '', q)"
    assert run_cell(ip, code, cell_id="loop-cell").success
    last = generate_requests(emulator)[-1].body
    assert user_prompts(last) == ["One?", "Two?"]
    assert texts(last, "model")
