"""The conversation as a user keeps it: ``--new``, and turns made by code in one cell.

Each test runs on both APIs (``any_api``): on generateContent the request carries the
conversation, on Interactions the service keeps it; the prompts read the same.
"""

from __future__ import annotations

from gemini_magic.errors import GeminiAPIError
from tests.helpers.magic import run_cell
from tests.helpers.wire import conversation_prompts, prompt_requests


def test_new_that_fails_keeps_the_old_conversation(any_api, emulator):
    assert run_cell(any_api, "%%gemini\nFirst question.").success
    run_cell(any_api, "%config GeminiMagics.max_retries = 0")
    emulator.inject("status", code=500)
    failed = run_cell(any_api, "%%gemini --new\nA fresh start that fails.")
    assert isinstance(failed.error, GeminiAPIError)
    assert run_cell(any_api, "%%gemini\nSecond question.").success
    assert conversation_prompts(emulator) == ["First question.", "Second question."]


def test_new_that_succeeds_forgets_the_old_conversation(any_api, emulator):
    assert run_cell(any_api, "%%gemini\nFirst question.").success
    assert run_cell(any_api, "%%gemini --new\nA fresh start.").success
    assert run_cell(any_api, "%%gemini\nFollow-up.").success
    assert conversation_prompts(emulator) == ["A fresh start.", "Follow-up."]


def test_two_prompts_from_one_cell_are_two_turns(any_api, emulator):
    code = "for q in ['One?', 'Two?']:\n    get_ipython().run_cell_magic('gemini', '', q)"
    assert run_cell(any_api, code, cell_id="loop-cell").success
    assert len(prompt_requests(emulator)) == 2
    assert conversation_prompts(emulator) == ["One?", "Two?"]
