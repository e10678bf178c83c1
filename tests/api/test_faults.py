"""The fault matrix: every failure the service or the network can cause, through %%gemini.

Each test injects one fault into the emulator (the real SDK talks to it over real HTTP)
and checks what a user notices: the cell fails or succeeds as it should, what was
already shown stays and is marked incomplete, the conversation keeps no part of the
failed turn, and the next prompt works.  docs/reliability.md lists the matrix.
"""

from __future__ import annotations

import pandas as pd
import pytest

from gemini_magic.errors import GeminiAPIError, GeminiConnectionError, GeminiTimeoutError
from tests.helpers.magic import run_cell
from tests.helpers.reliability import INCOMPLETE, REPLIES
from tests.helpers.wire import generate_requests, texts, user_prompts


@pytest.fixture
def emu(emulator_with_replies, ip):
    """The emulator with short scripted replies, and quick retries in the shell."""
    emulator = emulator_with_replies(REPLIES)
    run_cell(ip, "%config GeminiMagics.retry_initial_delay = 0.01")
    run_cell(ip, "%config GeminiMagics.retry_max_delay = 0.05")
    return emulator


def assert_next_prompt_works_without_the_failed_turn(ip, emu, failed_prompt: str) -> None:
    """The next prompt succeeds and carries the earlier good turn, nothing of the failed one."""
    run = run_cell(ip, "%%gemini\nSay goodbye.")
    assert run.success, run.error
    assert "Goodbye!" in run.all_text()
    body = generate_requests(emu)[-1].body
    assert user_prompts(body) == ["Say hello.", "Say goodbye."]
    assert failed_prompt not in str(body)
    assert not any("upon a time" in text for text in texts(body, "model"))


def start_with_one_good_turn(ip) -> None:
    first = run_cell(ip, "%%gemini\nSay hello.")
    assert first.success, first.error


# --- status codes before anything was shown ----------------------------------------------


def test_429_exhausting_retries_is_a_quota_error_after_honouring_retry_after(ip, emu):
    start_with_one_good_turn(ip)
    run_cell(ip, "%config GeminiMagics.max_retries = 1")
    emu.inject("status", code=429, retry_after=0, count=2)
    run = run_cell(ip, "%%gemini\nTell a story.")
    assert isinstance(run.error, GeminiAPIError)
    assert run.error.code == 429
    assert "rate limit" in str(run.error).lower()
    assert "Retrying in 0.0 s" in run.all_text()  # the server's 0 s, not the 0.01 s back-off
    assert len(generate_requests(emu)) == 1 + 2
    assert_next_prompt_works_without_the_failed_turn(ip, emu, "Tell a story.")


def test_500_once_is_retried_with_a_notice_and_the_answer_arrives(ip, emu):
    start_with_one_good_turn(ip)
    emu.inject("status", code=500, count=1)
    run = run_cell(ip, "%%gemini\nTell a story.")
    assert run.success, run.error
    assert "Retrying in" in run.all_text() and "attempt 2 of 4" in run.all_text()
    assert "upon a time" in run.all_text()
    assert INCOMPLETE not in run.all_text()
    assert len(generate_requests(emu)) == 1 + 2


@pytest.mark.parametrize("code", [500, 503])
def test_5xx_is_retried_a_bounded_number_of_times_then_a_clear_error(ip, emu, code):
    start_with_one_good_turn(ip)
    run_cell(ip, "%config GeminiMagics.max_retries = 2")
    emu.inject("status", code=code, count=10)
    run = run_cell(ip, "%%gemini\nTell a story.")
    assert isinstance(run.error, GeminiAPIError)
    assert run.error.code == code
    assert "retried" in str(run.error)
    assert run.all_text().count("Retrying in") == 2
    assert len(generate_requests(emu)) == 1 + 3
    emu.reset()
    emu.set_replies(REPLIES)
    assert_next_prompt_works_without_the_failed_turn(ip, emu, "Tell a story.")


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
    """400 quotes the service; 403 points at the key; 404 at how to list the models."""
    start_with_one_good_turn(ip)
    emu.inject("status", code=code, message=message, count=1)
    run = run_cell(ip, f"%%gemini{options}\nTell a story.")
    assert isinstance(run.error, GeminiAPIError)
    assert run.error.code == code
    assert said in run.error.message
    assert all(hint in (run.error.hint or "") for hint in hints)
    assert len(generate_requests(emu)) == 2
    assert_next_prompt_works_without_the_failed_turn(ip, emu, "Tell a story.")


# --- failures after part of the answer was shown -----------------------------------------


def shown_part_stays_marked_incomplete(run) -> None:
    text = run.all_text()
    assert "Once upon a time" in text, "the part shown before the failure is gone"
    assert "The end." not in text
    assert INCOMPLETE in text
    assert text.index("Once upon a time") < text.index(INCOMPLETE)


def test_error_event_mid_stream_keeps_the_shown_part_marked_incomplete(ip, emu):
    start_with_one_good_turn(ip)
    emu.inject("stream_error", code=500, message="Internal error mid-stream.", after=2)
    run = run_cell(ip, "%%gemini\nTell a story.")
    assert isinstance(run.error, GeminiAPIError)
    assert "Internal error mid-stream." in str(run.error)
    shown_part_stays_marked_incomplete(run)
    assert len(generate_requests(emu)) == 2, "a half-shown answer must not be retried"
    assert_next_prompt_works_without_the_failed_turn(ip, emu, "Tell a story.")


def test_malformed_event_mid_stream_is_a_clear_error(ip, emu):
    start_with_one_good_turn(ip)
    emu.inject("malformed_event", after=2)
    run = run_cell(ip, "%%gemini\nTell a story.")
    assert isinstance(run.error, GeminiAPIError)
    assert "could not be read" in str(run.error)
    shown_part_stays_marked_incomplete(run)
    assert_next_prompt_works_without_the_failed_turn(ip, emu, "Tell a story.")


def test_connection_dropped_mid_stream_is_a_connection_error(ip, emu):
    start_with_one_good_turn(ip)
    emu.inject("drop", after=2)
    run = run_cell(ip, "%%gemini\nTell a story.")
    assert isinstance(run.error, GeminiConnectionError)
    assert "connection" in str(run.error).lower()
    shown_part_stays_marked_incomplete(run)
    assert len(generate_requests(emu)) == 2
    assert_next_prompt_works_without_the_failed_turn(ip, emu, "Tell a story.")


def test_connection_dropped_before_anything_was_shown_is_retried(ip, emu):
    start_with_one_good_turn(ip)
    emu.inject("drop", count=1)
    run = run_cell(ip, "%%gemini --no-stream\nTell a story.")
    assert run.success, run.error
    assert "Retrying in" in run.all_text()
    assert "The end." in run.all_text()
    assert len(generate_requests(emu)) == 1 + 2


def test_stall_before_the_answer_times_out_with_a_clear_error(ip, emu):
    start_with_one_good_turn(ip)
    run_cell(ip, "%config GeminiMagics.timeout = 1.0")
    emu.inject("stall", seconds=30)
    run = run_cell(ip, "%%gemini\nTell a story.")
    assert isinstance(run.error, GeminiTimeoutError)
    assert "within 1 s" in str(run.error)
    assert "GeminiMagics.timeout" in run.error.hint
    emu.reset()  # ends the stalled handler
    emu.set_replies(REPLIES)
    assert_next_prompt_works_without_the_failed_turn(ip, emu, "Tell a story.")


def test_stall_mid_stream_times_out_and_keeps_the_shown_part(ip, emu):
    start_with_one_good_turn(ip)
    run_cell(ip, "%config GeminiMagics.timeout = 1.0")
    emu.inject("stall", seconds=30, after=2)
    run = run_cell(ip, "%%gemini\nTell a story.")
    assert isinstance(run.error, GeminiTimeoutError)
    shown_part_stays_marked_incomplete(run)
    emu.reset()
    emu.set_replies(REPLIES)
    assert_next_prompt_works_without_the_failed_turn(ip, emu, "Tell a story.")


# --- big answers and expired uploads -----------------------------------------------------


def test_huge_reply_is_folded_in_the_notebook_and_whole_on_the_response(ip, emu):
    start_with_one_good_turn(ip)
    emu.inject("huge", size=2_000_000)
    run = run_cell(ip, "%%gemini -o answer\nTell a story.")
    assert run.success, run.error
    assert len(ip.user_ns["answer"].text) == 2_000_000
    largest = max(len(str(value)) for output in run.outputs for value in output.values())
    assert largest < 200_000, f"an output of {largest:,} characters would freeze the front end"
    assert "folded" in run.all_text()
    assert run.publishes < 400
    run_next = run_cell(ip, "%%gemini\nSay goodbye.")
    assert run_next.success, run_next.error


def test_expired_upload_is_uploaded_again_and_the_prompt_succeeds(ip, emu):
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


def test_failed_upload_is_a_clear_error_and_no_prompt_is_sent(ip, emu):
    start_with_one_good_turn(ip)
    ip.user_ns["big"] = pd.DataFrame({"x": range(2_000)})
    run_cell(ip, "%config GeminiMagics.upload_threshold = 1000")
    emu.inject("status", code=403, path="^/upload/", count=1)
    run = run_cell(ip, "%%gemini\nWhat is the mean of x in {big}?")
    assert isinstance(run.error, GeminiAPIError), repr(run.error)
    assert run.error.code == 403 and "GEMINI_API_KEY" in run.error.hint
    assert "Traceback" not in run.stdout
    assert len(generate_requests(emu)) == 1
    assert_next_prompt_works_without_the_failed_turn(ip, emu, "mean of x")
