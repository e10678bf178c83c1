"""The turn as a user sees it end to end (``gemini_magic.turn``)."""

from __future__ import annotations

from tests.helpers.magic import run_cell


def test_an_answer_cut_short_by_the_service_says_so(any_api, emulator):
    emulator.inject("finish", reason="MAX_TOKENS")
    run = run_cell(any_api, "%%gemini\nTell me everything.")
    assert run.success, run.error
    assert "ended early (finish reason MAX_TOKENS)" in run.all_text()
