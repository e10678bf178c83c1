"""``%%gemini`` on the Interactions API (the default), through the real SDK and the emulator.

Every test reads what reached the emulator: the conversation lives at the service, so a
turn must send only its new input and name the interaction it follows.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from traitlets import TraitError

from gemini_magic.errors import GeminiAPIError, UsageError
from gemini_magic.models import DEFAULT_MODEL
from tests.helpers.magic import run_cell
from tests.helpers.wire import generate_requests, input_texts, interaction_requests

SALES = pd.DataFrame({"region": ["north", "south", "north"], "revenue": [10, 20, 30]})

CODE_REPLY = [
    {
        "match": "divide",
        "parts": [
            {"text": "Let me try."},
            {"code": "print(1 / 0)"},
            {"text": "That did not work."},
        ],
    },
    {
        "match": "factorial",
        "parts": [
            {"text": "Computing."},
            {"code": "import math\nprint(math.factorial(10))"},
            {"text": "The factorial of 10 is 3,628,800."},
        ],
    },
]


def _ids(emulator) -> list[str | None]:
    return [r.body.get("previous_interaction_id") for r in interaction_requests(emulator)]


def test_the_first_prompt_goes_to_interactions_with_the_default_model_and_streams(ix, emulator):
    ix.user_ns["sales"] = SALES
    run = run_cell(ix, "%%gemini\nWhat is the total revenue in {sales}?")
    assert run.success, run.error
    (request,) = interaction_requests(emulator)
    assert generate_requests(emulator) == []
    assert request.path == "/v1/interactions"
    body = request.body
    assert body["model"] == DEFAULT_MODEL
    assert body["stream"] is True
    assert body["tools"] == [{"type": "code_execution"}]
    assert "previous_interaction_id" not in body
    (user,) = body["input"]
    documents = [b for b in user["content"] if b["type"] == "document"]
    assert [d["mime_type"] for d in documents] == ["text/csv"]
    assert "offline emulator" in run.all_text()
    assert run_cell(ix, "_gemini.offline").outputs[-1]["text/plain"] == "True"


def test_the_second_prompt_names_the_first_and_resends_none_of_it(ix, emulator):
    ix.user_ns["sales"] = SALES
    assert run_cell(ix, "%%gemini\nSummarise {sales}.").success
    assert run_cell(ix, "%%gemini\nAnd the maximum?").success
    second = interaction_requests(emulator)[1]
    (stored_first, _) = sorted(emulator.interactions.list(), key=lambda i: i.created)
    assert second.body["previous_interaction_id"] == stored_first.interaction_id
    assert input_texts(second.body) == ["And the maximum?"]
    assert "document" not in json.dumps(second.body)
    assert second.bytes_in < 1_000


def test_code_output_and_failures_are_shown_on_interactions(ix, emulator_with_replies):
    emulator = emulator_with_replies(CODE_REPLY)
    run = run_cell(ix, "%%gemini\nPlease divide by zero.")
    assert run.success, run.error
    text = run.all_text()
    assert "print(1 / 0)" in text
    assert "ZeroDivisionError" in text
    assert "OUTCOME_FAILED" in text
    assert interaction_requests(emulator)


def test_an_expired_chain_is_repaired_without_an_error(ix, emulator):
    assert run_cell(ix, "%%gemini\nFirst question.").success
    assert run_cell(ix, "%%gemini\nSecond question.").success
    expired = emulator.inject("expire_interaction")
    assert expired
    run = run_cell(ix, "%%gemini\nThird question.")
    assert run.success, run.error
    assert "stored conversation had expired" in run.all_text()
    refused, resent = interaction_requests(emulator)[-2:]
    assert refused.status == 404 and refused.body["previous_interaction_id"]
    assert "previous_interaction_id" not in resent.body
    prompts = [t for t in input_texts(resent.body) if t.endswith("question.")]
    assert prompts == ["First question.", "Second question.", "Third question."]
    # The chain continues from the new interaction.
    assert run_cell(ix, "%%gemini\nFourth question.").success
    last = interaction_requests(emulator)[-1]
    assert last.body["previous_interaction_id"] not in expired
    assert input_texts(last.body) == ["Fourth question."]


def test_store_false_keeps_nothing_at_google_and_sends_the_history_as_steps(ix, emulator):
    assert run_cell(ix, "%config GeminiMagics.store = False").success
    assert run_cell(ix, "%%gemini\nFirst question.").success
    assert run_cell(ix, "%%gemini\nSecond question.").success
    first, second = interaction_requests(emulator)
    assert first.body["store"] is False and second.body["store"] is False
    assert "previous_interaction_id" not in second.body
    kinds = [step["type"] for step in second.body["input"]]
    assert kinds[0] == "user_input" and kinds[-1] == "user_input"
    assert "model_output" in kinds
    assert emulator.interactions.list() == []


def test_rerunning_a_cell_branches_from_the_interaction_before_it(ix, emulator):
    assert run_cell(ix, "%%gemini\nFirst.", cell_id="c1").success
    assert run_cell(ix, "%%gemini\nSecond.", cell_id="c2").success
    assert run_cell(ix, "%%gemini\nSecond, again.", cell_id="c2").success
    first_id = interaction_requests(emulator)[1].body["previous_interaction_id"]
    assert interaction_requests(emulator)[2].body["previous_interaction_id"] == first_id
    history = run_cell(ix, "%gemini history").all_text()
    assert "Second, again." in history and "Second.\n" not in history


def test_new_and_named_conversations_are_chains_of_their_own(ix, emulator):
    assert run_cell(ix, "%%gemini\nOne.").success
    assert run_cell(ix, "%%gemini -c other\nTwo.").success
    assert run_cell(ix, "%%gemini --new\nThree.").success
    assert _ids(emulator) == [None, None, None]


def test_a_failed_turn_is_never_chained_onto(ix, emulator):
    assert run_cell(ix, "%%gemini\nOne.").success
    good_id = interaction_requests(emulator)[0]
    emulator.inject("stream_error", message="boom")
    failed = run_cell(ix, "%%gemini\nTwo.")
    assert isinstance(failed.error, GeminiAPIError)
    assert "boom" in str(failed.error)
    assert run_cell(ix, "%%gemini\nThree.").success
    ids = _ids(emulator)
    assert ids[1] == ids[2] is not None  # "Three" follows "One", not the failed "Two"
    assert good_id.status == 200


def test_a_malformed_event_fails_the_cell_in_one_line_and_is_not_recorded(ix, emulator):
    emulator.inject("malformed_event")
    run = run_cell(ix, "%%gemini\nHello.")
    assert isinstance(run.error, GeminiAPIError)
    assert len(run.error._render_traceback_()) <= 2
    assert run_cell(ix, "%%gemini\nAgain.").success
    assert _ids(emulator)[-1] is None  # nothing to chain onto


def test_retry_after_is_honoured_on_interactions(ix, emulator):
    assert run_cell(ix, "%config GeminiMagics.retry_initial_delay = 0.01").success
    emulator.inject("status", code=503, count=1)
    run = run_cell(ix, "%%gemini\nHello.")
    assert run.success, run.error
    assert "Retrying in" in run.all_text()
    assert [r.status for r in interaction_requests(emulator)] == [503, 200]


def test_thinking_level_and_summaries_reach_the_request(ix, emulator):
    assert run_cell(ix, "%%gemini --thinking low --thoughts\nHello.").success
    (request,) = interaction_requests(emulator)
    assert request.body["generation_config"] == {
        "thinking_level": "low",
        "thinking_summaries": "auto",
    }


def test_a_deprecated_temperature_is_sent_and_said_so(ix, emulator):
    run = run_cell(ix, "%%gemini -t 0.3\nHello.")
    assert run.success, run.error
    assert "Temperature is deprecated on gemini-3.8-flash" in run.all_text()
    (request,) = interaction_requests(emulator)
    assert request.body["generation_config"]["temperature"] == 0.3


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("api", "chat", "'interactions'"),
        ("thinking_level", "ultra", "'minimal'"),
        ("store", 2, "bool"),
    ],
)
def test_bad_values_are_refused_and_the_old_one_kept(ix, emulator, name, value, allowed):
    magics = ix.magics_manager.registry["GeminiMagics"]
    before = getattr(magics, name)
    run_cell(ix, f"%config GeminiMagics.{name} = {value!r}")
    assert getattr(magics, name) == before
    with pytest.raises(TraitError, match=allowed):
        setattr(magics, name, value)
    assert getattr(magics, name) == before
    assert emulator.log == []


def test_a_bad_thinking_option_is_our_usage_error_and_nothing_is_sent(ix, emulator):
    run = run_cell(ix, "%%gemini --thinking ultra\nHello.")
    assert isinstance(run.error, UsageError)
    assert "minimal" in str(run.error)
    assert emulator.log == []


def test_generate_content_setting_gives_the_classic_requests(ix, emulator):
    assert run_cell(ix, "%config GeminiMagics.api = 'generate_content'").success
    assert run_cell(ix, "%%gemini\nHello.").success
    assert interaction_requests(emulator) == []
    (request,) = generate_requests(emulator)
    assert request.path.endswith(f"models/{DEFAULT_MODEL}:streamGenerateContent")


def test_history_survives_a_restart_and_the_chain_continues(ix, emulator, tmp_path):
    from gemini_magic.magics import GeminiMagics

    history = tmp_path / "nb.gemini-history.json"
    assert run_cell(ix, f"%config GeminiMagics.history_file = {str(history)!r}").success
    assert run_cell(ix, "%%gemini\nFirst.").success
    saved = json.loads(history.read_text())["conversations"]["default"][0]
    assert saved["api"] == "interactions" and saved["interaction_id"]
    restarted = GeminiMagics(shell=ix, history_file=str(history))
    try:
        ix.register_magics(restarted)
        assert run_cell(ix, "%%gemini\nSecond.").success
        assert (
            interaction_requests(emulator)[-1].body["previous_interaction_id"]
            == (saved["interaction_id"])
        )
    finally:
        restarted.close()


def test_a_large_frame_is_uploaded_once_and_an_expired_upload_is_uploaded_again(ix, emulator):
    big = pd.DataFrame({"x": range(30_000), "y": range(30_000)})
    ix.user_ns["big"] = big
    assert run_cell(ix, "%%gemini\nSum x in {big}.").success
    first = interaction_requests(emulator)[0]
    (document,) = [b for b in first.body["input"][0]["content"] if b["type"] == "document"]
    assert "uri" in document and "data" not in document  # over upload_threshold: by URI
    uploads = [r for r in emulator.log if r.path.startswith("/upload/")]
    emulator.inject("expire_file")
    run = run_cell(ix, "%%gemini\nAnd the sum of y in {big}?")
    assert run.success, run.error
    assert "uploaded again" in run.all_text()
    assert len([r for r in emulator.log if r.path.startswith("/upload/")]) > len(uploads)
    last = interaction_requests(emulator)[-1]
    assert last.status == 200
    new_uris = [b["uri"] for s in last.body["input"] for b in s.get("content", []) if "uri" in b]
    assert new_uris and document["uri"] not in new_uris  # the new upload, not the expired one


def test_the_model_is_told_the_sandbox_name_of_each_file_across_turns(ix, emulator):
    ix.user_ns["sales"] = SALES
    assert run_cell(ix, "%%gemini\nSummarise {sales}.").success
    assert run_cell(ix, "%%gemini\nAnd again {sales}, please.").success
    first, second = (input_texts(r.body) for r in interaction_requests(emulator))
    # A document block has no file name: the sandbox numbers the conversation's files.
    assert any("`input_file_0.csv`" in text for text in first)
    assert any("`input_file_1.csv`" in text for text in second)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (403, "API key not valid. Please pass a valid API key."),
        (400, "Request contains an invalid argument."),
    ],
    ids=["key-revoked", "bad-request"],
)
def test_a_refusal_not_about_the_interaction_is_raised_not_repaired(ix, emulator, code, message):
    """A key revoked before turn 2 fails the cell: the conversation is not re-sent."""
    assert run_cell(ix, "%%gemini\nFirst question.").success
    emulator.inject("status", code=code, message=message, count=1)
    run = run_cell(ix, "%%gemini\nSecond question.")
    assert isinstance(run.error, GeminiAPIError)
    assert run.error.code == code
    assert message in str(run.error)
    assert "stored conversation had expired" not in run.all_text()
    _first, refused = interaction_requests(emulator)  # nothing was re-sent after the refusal
    assert refused.body["previous_interaction_id"]


@pytest.mark.parametrize("code", [400, 403])
def test_a_refusal_that_names_the_interaction_is_repaired(ix, emulator, code):
    """A 400 or 403 about the stored interaction (expired, another project's) is repaired."""
    assert run_cell(ix, "%%gemini\nFirst question.").success
    emulator.inject("status", code=code, message="The interaction is not available.", count=1)
    run = run_cell(ix, "%%gemini\nSecond question.")
    assert run.success, run.error
    assert "stored conversation had expired" in run.all_text()
    _first, refused, resent = interaction_requests(emulator)
    assert refused.status == code and refused.body["previous_interaction_id"]
    assert "previous_interaction_id" not in resent.body
    prompts = [t for t in input_texts(resent.body) if t.endswith("question.")]
    assert prompts == ["First question.", "Second question."]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (400, "API key not valid. Please pass a valid API key."),
        (403, "Permission denied: the API key was revoked."),
    ],
)
def test_a_key_that_stopped_working_is_raised_and_the_turn_kept(ix, emulator, code, message):
    """A key that stopped working before turn 2 is an error the user must see: taking it
    for an expired chain would send the whole conversation again, only to fail again."""
    assert run_cell(ix, "%%gemini\nRemember the number 7.").success
    emulator.inject("status", code=code, message=message)
    run = run_cell(ix, "%%gemini\nWhich number did I ask you to remember?")
    assert isinstance(run.error, GeminiAPIError), run.error
    assert run.error.code == code and message in run.error.message
    assert "stored conversation" not in run.all_text()
    _first, refused = interaction_requests(emulator)  # nothing was sent again
    (kept,) = ix.magics_manager.registry["GeminiMagics"].session.store.get("default").exchanges
    assert refused.status == code
    assert refused.body["previous_interaction_id"] == kept.interaction_id
