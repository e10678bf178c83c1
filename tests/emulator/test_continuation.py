"""Continuation hops on the emulator's Interactions API, driven by the real SDK.

An answer past the per-request decode limit ends its interaction with
``requires_continuation`` and a ``continuation_token``; the SDK (3.6.1) continues by
itself, and the emulator must answer each hop as the service does.
"""

from __future__ import annotations

import json

import pytest
from google import genai
from google.genai import _interactions as ix  # the Interactions client's errors
from google.genai import errors as genai_errors

from gemini_magic.emulator import Emulator
from gemini_magic.emulator.http.interactions import split_hops
from tests.helpers.interaction import CODE, MODEL, REPLIES, make_client, output_texts, raw


@pytest.fixture
def client(emulator: Emulator) -> genai.Client:
    emulator.set_replies(REPLIES)
    return make_client(emulator)


def _creates(emulator: Emulator) -> list[dict]:
    return [e.body for e in emulator.log if e.method == "POST" and e.path == "/v1/interactions"]


def test_unary_hops_are_merged_into_the_same_answer_with_input_billed_per_hop(emulator, client):
    whole = client.interactions.create(model=MODEL, input="plot it", tools=CODE)
    emulator.reset()
    emulator.set_replies(REPLIES)
    emulator.inject("continuation", hops=3)
    merged = client.interactions.create(model=MODEL, input="plot it", tools=CODE)

    assert merged.status == "completed" and len(merged.continuation_ids) == 3
    assert merged.id == merged.continuation_ids[-1]
    assert "".join(output_texts(merged.steps)) == "".join(output_texts(whole.steps))
    assert merged.usage.total_input_tokens == 3 * whole.usage.total_input_tokens
    first, second, third = _creates(emulator)
    assert first["input"] == "plot it" and "continuation_token" not in first
    for hop, issuer in ((second, merged.continuation_ids[0]), (third, merged.continuation_ids[1])):
        assert "input" not in hop and hop["continuation_token"].startswith("ct_")
        assert hop["previous_interaction_id"] == issuer
    # Each hop is an interaction of its own, chained to the one before it.
    last = client.interactions.get(merged.id)
    assert last.previous_interaction_id == merged.continuation_ids[1]


def test_store_false_hops_send_the_input_again_and_keep_nothing(emulator, client):
    emulator.inject("continuation", hops=2)
    merged = client.interactions.create(model=MODEL, input="plot it", tools=CODE, store=False)
    assert merged.status == "completed" and len(merged.continuation_ids) == 2
    _, second = _creates(emulator)
    assert second["input"] == "plot it" and second["store"] is False
    assert "previous_interaction_id" not in second and second["continuation_token"]
    assert emulator.interactions.list() == []


def test_streamed_hops_arrive_in_one_stream_each_hop_its_own_interaction(emulator, client):
    emulator.inject("continuation", hops=2)
    events = list(client.interactions.create(model=MODEL, input="plot it", tools=CODE, stream=True))
    done = [e.interaction for e in events if e.event_type == "interaction.completed"]
    assert [d.status for d in done] == ["requires_continuation", "completed"]
    assert done[0].continuation_token and done[1].continuation_token is None
    created = [e.interaction.id for e in events if e.event_type == "interaction.created"]
    assert created == [d.id for d in done] and created[0] != created[1]
    text = "".join(
        e.delta.text for e in events if e.event_type == "step.delta" and e.delta.type == "text"
    )
    assert text == (
        "I will draw the numbers with Matplotlib and print their total for you.The total is 6."
    )
    second = _creates(emulator)[1]
    assert second["previous_interaction_id"] == created[0] and "input" not in second
    # The next turn follows the last hop, and sees the whole answer through the chain.
    chain = emulator.interactions.chain(created[1], emulator.interactions.list()[0].owner)
    assert [c.interaction_id for c in chain] == created


def test_a_hop_naming_another_interaction_or_an_unknown_token_is_refused(emulator, client):
    emulator.inject("continuation", hops=2)
    with pytest.warns(UserWarning, match="requires_continuation"):
        first = client.interactions.create(
            model=MODEL, input="plot it", tools=CODE, automatic_continuation=False
        )
    assert first.status == "requires_continuation" and first.continuation_token
    body = {"model": MODEL, "continuation_token": first.continuation_token}
    wrong = json.dumps({**body, "previous_interaction_id": "v1_other"}).encode()
    status, error = raw(emulator, "POST", "/v1/interactions", wrong)
    assert status == 400 and first.id in error["error"]["message"]
    unknown = json.dumps({**body, "continuation_token": "ct_nope", "input": "x"}).encode()
    status, error = raw(emulator, "POST", "/v1/interactions", unknown)
    assert (status, error["error"]["code"]) == (400, "invalid_request")
    other = make_client(emulator, key=emulator.add_key())  # another caller's key
    with pytest.raises(ix.BadRequestError, match="continuation_token"):
        other.interactions.create(
            model=MODEL,
            continuation_token=first.continuation_token,
            previous_interaction_id=first.id,
        )
    resumed = client.interactions.create(
        model=MODEL, continuation_token=first.continuation_token, previous_interaction_id=first.id
    )
    assert resumed.status == "completed" and resumed.previous_interaction_id == first.id


def test_a_failing_hop_after_progress_raises_the_sdks_interrupted_error(emulator, client):
    emulator.inject("continuation", hops=2)
    emulator.inject("status", code=400, message="hop refused")
    with pytest.raises(genai_errors.ContinuationInterruptedError) as caught:
        client.interactions.create(model=MODEL, input="plot it", tools=CODE)
    assert caught.value.continuation_token and caught.value.partial_interaction is not None


def test_split_hops_cuts_the_text_between_words_and_loses_nothing():
    parts = [{"text": "t", "thought": True}, {"text": "one two three four"}, {"code": "x"}]
    pieces = split_hops(parts, 2)
    assert len(pieces) == 2
    texts = [p["text"] for piece in pieces for p in piece if "text" in p and not p.get("thought")]
    assert "".join(texts) == "one two three four" and len(texts) == 2


def _kinds(n: int) -> list[list[dict]]:
    """Every reply of ``n`` parts made of a thought, a text and a code step."""
    shapes = [{"text": "a thought", "thought": True}, {"text": "one two three"}, {"code": "x"}]
    if n == 0:
        return [[]]
    return [[*rest, dict(shape)] for rest in _kinds(n - 1) for shape in shapes]


@pytest.mark.parametrize("hops", [2, 3, 5])
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
def test_split_hops_keeps_every_part_in_order_in_at_most_hops_pieces(size, hops):
    for parts in _kinds(size):
        pieces = split_hops(parts, hops)
        assert 1 <= len(pieces) <= hops and all(pieces)
        joined: list[dict] = []
        for piece in pieces:
            for part in piece:
                last = joined[-1] if joined else None
                if (
                    last is not None
                    and "text" in part
                    and "text" in last
                    and not part.get("thought")
                    and not last.get("thought")
                ):
                    joined[-1] = {**last, "text": last["text"] + part["text"]}
                else:
                    joined.append(dict(part))
        original: list[dict] = []
        for part in parts:  # adjacent answer texts read as one, as the client merges them
            last = original[-1] if original else None
            if (
                last is not None
                and "text" in part
                and "text" in last
                and not (part.get("thought") or last.get("thought"))
            ):
                original[-1] = {**last, "text": last["text"] + part["text"]}
            else:
                original.append(dict(part))
        assert joined == original
