"""The fault matrix: every failure the service or the network can cause, through %%gemini.

Each test injects one fault into the emulator (the real SDK talks to it over real HTTP)
and checks what a user notices: the cell fails or succeeds as it should, what was
already shown stays and is marked incomplete, the conversation keeps no part of the
failed turn, and the next prompt works.  docs/reliability.md lists the matrix.

The faults run on both APIs (the ``shell`` fixture); the two whose meaning differs by
API (a 404 on a chained prompt, the file references of the history) run on
generateContent, and the Interactions cases are in api/test_interactions.py.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from gemini_magic.errors import GeminiAPIError, GeminiConnectionError, GeminiTimeoutError
from tests.helpers.magic import run_cell
from tests.helpers.reliability import INCOMPLETE, REPLIES
from tests.helpers.wire import conversation_prompts, generate_requests, prompt_requests


@pytest.fixture
def emu(emulator_with_replies):
    """The emulator with short scripted replies."""
    return emulator_with_replies(REPLIES)


@pytest.fixture
def shell(any_api):
    """The shell, on each API in turn, with quick retries."""
    run_cell(any_api, "%config GeminiMagics.retry_initial_delay = 0.01")
    run_cell(any_api, "%config GeminiMagics.retry_max_delay = 0.05")
    return any_api


@pytest.fixture
def mid_stream(shell) -> int:
    """How many stream events come before the story's first words are shown: on
    Interactions they follow interaction.created, the status update, the thought step and
    the start of the model_output step."""
    return {"generate_content": 2, "interactions": 10}[
        shell.magics_manager.registry["GeminiMagics"].api
    ]


def assert_next_prompt_works_without_the_failed_turn(shell, emu, failed_prompt: str) -> None:
    """The next prompt succeeds and carries the earlier good turn, nothing of the failed one."""
    run = run_cell(shell, "%%gemini\nSay goodbye.")
    assert run.success, run.error
    assert "Goodbye!" in run.all_text()
    assert conversation_prompts(emu) == ["Say hello.", "Say goodbye."]
    body = json.dumps(prompt_requests(emu)[-1].body)
    assert failed_prompt not in body
    assert "upon a time" not in body


def start_with_one_good_turn(shell) -> None:
    first = run_cell(shell, "%%gemini\nSay hello.")
    assert first.success, first.error


# --- status codes before anything was shown ----------------------------------------------


def test_429_exhausting_retries_is_a_quota_error_after_honouring_retry_after(shell, emu):
    start_with_one_good_turn(shell)
    run_cell(shell, "%config GeminiMagics.max_retries = 1")
    emu.inject("status", code=429, retry_after=0, count=2)
    run = run_cell(shell, "%%gemini\nTell a story.")
    assert isinstance(run.error, GeminiAPIError)
    assert run.error.code == 429
    assert "rate limit" in str(run.error).lower()
    assert "Retrying in 0.0 s" in run.all_text()  # the server's 0 s, not the 0.01 s back-off
    assert len(prompt_requests(emu)) == 1 + 2
    assert_next_prompt_works_without_the_failed_turn(shell, emu, "Tell a story.")


def test_500_once_is_retried_with_a_notice_and_the_answer_arrives(shell, emu):
    start_with_one_good_turn(shell)
    emu.inject("status", code=500, count=1)
    run = run_cell(shell, "%%gemini\nTell a story.")
    assert run.success, run.error
    assert "Retrying in" in run.all_text() and "attempt 2 of 4" in run.all_text()
    assert "upon a time" in run.all_text()
    assert INCOMPLETE not in run.all_text()
    assert len(prompt_requests(emu)) == 1 + 2


@pytest.mark.parametrize("code", [500, 503])
def test_5xx_is_retried_a_bounded_number_of_times_then_a_clear_error(shell, emu, code):
    start_with_one_good_turn(shell)
    run_cell(shell, "%config GeminiMagics.max_retries = 2")
    emu.inject("status", code=code, count=10)
    run = run_cell(shell, "%%gemini\nTell a story.")
    assert isinstance(run.error, GeminiAPIError)
    assert run.error.code == code
    assert "retried" in str(run.error)
    assert run.all_text().count("Retrying in") == 2
    assert len(prompt_requests(emu)) == 1 + 3
    emu.reset()
    emu.set_replies(REPLIES)
    assert_next_prompt_works_without_the_failed_turn(shell, emu, "Tell a story.")


@pytest.mark.parametrize(
    ("code", "options", "message", "said", "hints"),
    [
        pytest.param(
            400, "", "Bad field 'txet'.", "Bad field 'txet'.", [], id="400-quotes-the-service"
        ),
        pytest.param(403, "", None, "403", ["GEMINI_API_KEY"], id="403-bad-key"),
        pytest.param(
            404,
            " -m gemini-9-ultra",
            None,
            "404",
            ["%gemini models", "--model"],
            id="404-unknown-model",
        ),
    ],
)
def test_a_client_error_is_not_retried_and_says_what_to_do(
    ip, emu, code, options, message, said, hints
):
    """400 quotes the service; 403 points at the key; 404 at how to list the models.

    On generateContent: on Interactions a 404 to a chained prompt means the stored
    conversation is gone, and is repaired (api/test_interactions.py has both refusals).
    """
    start_with_one_good_turn(ip)
    emu.inject("status", code=code, message=message, count=1)
    run = run_cell(ip, f"%%gemini{options}\nTell a story.")
    assert isinstance(run.error, GeminiAPIError)
    assert run.error.code == code
    assert said in run.error.message
    assert all(hint in (run.error.hint or "") for hint in hints)
    assert len(prompt_requests(emu)) == 2
    assert_next_prompt_works_without_the_failed_turn(ip, emu, "Tell a story.")


# --- failures after part of the answer was shown -----------------------------------------


def shown_part_stays_marked_incomplete(run) -> None:
    text = run.all_text()
    assert "Once upon a time" in text, "the part shown before the failure is gone"
    assert "The end." not in text
    assert INCOMPLETE in text
    assert text.index("Once upon a time") < text.index(INCOMPLETE)


def test_error_event_mid_stream_keeps_the_shown_part_marked_incomplete(shell, emu, mid_stream):
    start_with_one_good_turn(shell)
    emu.inject("stream_error", code=500, message="Internal error mid-stream.", after=mid_stream)
    run = run_cell(shell, "%%gemini\nTell a story.")
    assert isinstance(run.error, GeminiAPIError)
    assert "Internal error mid-stream." in str(run.error)
    shown_part_stays_marked_incomplete(run)
    assert len(prompt_requests(emu)) == 2, "a half-shown answer must not be retried"
    assert_next_prompt_works_without_the_failed_turn(shell, emu, "Tell a story.")


def test_malformed_event_mid_stream_is_a_clear_error(shell, emu, mid_stream):
    start_with_one_good_turn(shell)
    emu.inject("malformed_event", after=mid_stream)
    run = run_cell(shell, "%%gemini\nTell a story.")
    assert isinstance(run.error, GeminiAPIError)
    assert "could not be read" in str(run.error)
    shown_part_stays_marked_incomplete(run)
    assert_next_prompt_works_without_the_failed_turn(shell, emu, "Tell a story.")


def test_connection_dropped_mid_stream_is_a_connection_error(shell, emu, mid_stream):
    start_with_one_good_turn(shell)
    emu.inject("drop", after=mid_stream)
    run = run_cell(shell, "%%gemini\nTell a story.")
    assert isinstance(run.error, GeminiConnectionError)
    assert "connection" in str(run.error).lower()
    shown_part_stays_marked_incomplete(run)
    assert len(prompt_requests(emu)) == 2
    assert_next_prompt_works_without_the_failed_turn(shell, emu, "Tell a story.")


def test_connection_dropped_before_anything_was_shown_is_retried(shell, emu):
    start_with_one_good_turn(shell)
    emu.inject("drop", count=1)
    run = run_cell(shell, "%%gemini --no-stream\nTell a story.")
    assert run.success, run.error
    assert "Retrying in" in run.all_text()
    assert "The end." in run.all_text()
    assert len(prompt_requests(emu)) == 1 + 2


def test_stall_before_the_answer_times_out_with_a_clear_error(shell, emu):
    start_with_one_good_turn(shell)
    run_cell(shell, "%config GeminiMagics.timeout = 1.0")
    emu.inject("stall", seconds=30)
    run = run_cell(shell, "%%gemini\nTell a story.")
    assert isinstance(run.error, GeminiTimeoutError)
    assert "within 1 s" in str(run.error)
    assert "GeminiMagics.timeout" in run.error.hint
    emu.reset()  # ends the stalled handler
    emu.set_replies(REPLIES)
    assert_next_prompt_works_without_the_failed_turn(shell, emu, "Tell a story.")


def test_stall_mid_stream_times_out_and_keeps_the_shown_part(shell, emu, mid_stream):
    start_with_one_good_turn(shell)
    run_cell(shell, "%config GeminiMagics.timeout = 1.0")
    emu.inject("stall", seconds=30, after=mid_stream)
    run = run_cell(shell, "%%gemini\nTell a story.")
    assert isinstance(run.error, GeminiTimeoutError)
    shown_part_stays_marked_incomplete(run)
    emu.reset()
    emu.set_replies(REPLIES)
    assert_next_prompt_works_without_the_failed_turn(shell, emu, "Tell a story.")


# --- big answers and expired uploads -----------------------------------------------------


def test_huge_reply_is_folded_in_the_notebook_and_whole_on_the_response(shell, emu):
    start_with_one_good_turn(shell)
    emu.inject("huge", size=2_000_000)
    run = run_cell(shell, "%%gemini -o answer\nTell a story.")
    assert run.success, run.error
    assert len(shell.user_ns["answer"].text) == 2_000_000
    largest = max(len(str(value)) for output in run.outputs for value in output.values())
    assert largest < 200_000, f"an output of {largest:,} characters would freeze the front end"
    assert "folded" in run.all_text()
    assert run.publishes < 400
    run_next = run_cell(shell, "%%gemini\nSay goodbye.")
    assert run_next.success, run_next.error


def test_expired_upload_is_uploaded_again_and_the_prompt_succeeds(ip, emu):
    """On generateContent, whose requests carry the history's file references."""
    frame = pd.DataFrame({"x": range(2_000), "label": [f"item {i}" for i in range(2_000)]})
    ip.user_ns["big"] = frame
    run_cell(ip, "%config GeminiMagics.upload_threshold = 1000")
    first = run_cell(ip, "%%gemini\nWhat is the mean of x in {big}?")
    assert first.success, first.error
    uploads = [r for r in emu.log if r.path.startswith("/upload/")]
    assert uploads, "the frame was not uploaded"
    emu.inject("expire_file")
    second = run_cell(ip, "%%gemini\nAnd the sum of x in {big}?")
    assert second.success, second.error
    assert "uploaded again" in second.all_text()
    assert str(frame["x"].sum()) in second.all_text()
    # The retried request and the one after it refer to the new file only.
    third = run_cell(ip, "%%gemini\nAnd the max of x?")
    assert third.success, third.error
    last = generate_requests(emu)[-1]
    uris = {
        part.get("fileData", part.get("file_data", {})).get("file_uri")
        for content in last.body["contents"]
        for part in content["parts"]
        if "fileData" in part or "file_data" in part
    }
    assert len(uris) == 1
    assert last.status == 200


def test_failed_upload_is_a_clear_error_and_no_prompt_is_sent(shell, emu):
    start_with_one_good_turn(shell)
    shell.user_ns["big"] = pd.DataFrame({"x": range(2_000)})
    run_cell(shell, "%config GeminiMagics.upload_threshold = 1000")
    emu.inject("status", code=403, path="^/upload/", count=1)
    run = run_cell(shell, "%%gemini\nWhat is the mean of x in {big}?")
    assert isinstance(run.error, GeminiAPIError), repr(run.error)
    assert run.error.code == 403 and "GEMINI_API_KEY" in run.error.hint
    assert "Traceback" not in run.stdout
    assert len(prompt_requests(emu)) == 1
    assert_next_prompt_works_without_the_failed_turn(shell, emu, "mean of x")


def test_an_unreadable_retry_after_falls_back_to_the_back_off(shell, emulator):
    run_cell(shell, "%config GeminiMagics.retry_initial_delay = 0.01")
    emulator.inject("status", code=429, retry_after="soon")
    run = run_cell(shell, "%%gemini\nhello")
    assert run.success, run.error
    assert "Retrying in 0.0 s" in run.all_text()
