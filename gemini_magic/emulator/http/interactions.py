"""``/v1/interactions`` and ``/v1beta/interactions``: the Interactions API.

``POST interactions`` creates one (JSON, or with ``stream: true`` server-sent events:
``interaction.created``, ``interaction.status_update``, ``step.start`` / ``step.delta``
/ ``step.stop`` per step, ``interaction.completed``); ``GET interactions/{id}`` (JSON,
or with ``stream=true`` the stored interaction replayed as a stream),
``DELETE interactions/{id}`` (200 ``{}``) and ``POST interactions/{id}/cancel``.

The reply comes from the same model and sandbox as generateContent: the request's
steps (after the stored chain its ``previous_interaction_id`` names) are read as
generateContent contents, and the model's parts are written as steps.  A reply past
the decode limit (the ``continuation`` fault) comes in hops: each but the last ends
``requires_continuation`` with a ``continuation_token`` that the next create redeems.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from gemini_magic.emulator.answers.faults import Fault
from gemini_magic.emulator.answers.model import reply_for
from gemini_magic.emulator.answers.steps import Event, StepWriter, step_events
from gemini_magic.emulator.http.exchange import Exchange
from gemini_magic.emulator.store.interactions import PendingHops, StoredInteraction, owner_of
from gemini_magic.emulator.wire import codec as wire
from gemini_magic.emulator.wire.codec import RequestError
from gemini_magic.emulator.wire.interactions import CreateRequest, as_contents, parse_create
from gemini_magic.emulator.wire.tokens import count_tokens, interaction_usage

MALFORMED = b'event: step.delta\ndata: {"event_type": "step.delta", "index": \n\n'
"""The broken event of the ``malformed_event`` fault (its data is not JSON)."""


def wants_stream(handler: Exchange) -> bool:
    """Whether a create asks for a stream (read before the fault is chosen)."""
    if handler.method != "POST" or not handler.raw.strip():
        return False
    try:
        body = json.loads(handler.raw)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("stream") is True


def serve(handler: Exchange, route: re.Match[str], fault: Fault | None) -> None:
    """Create, get, delete or cancel an interaction."""
    one, cancel, method = route.group(2), route.group(3), handler.method
    store, owner = handler.emulator.interactions, owner_of(handler.api_key)
    if one is None and method == "POST" and not cancel:
        _create(handler, parse_create(handler.raw), fault)
    elif one is not None and cancel and method == "POST":
        interaction = store.get(one, owner)
        interaction.set_status("cancelled")
        handler.send_json(200, interaction.resource())
    elif one is not None and not cancel and method == "GET":
        interaction = store.get(one, owner)
        if handler.query.get("stream", "false").lower() == "true":
            _replay(handler, interaction)
        else:
            handler.send_json(200, interaction.resource(include_input=True))
    elif one is not None and not cancel and method == "DELETE":
        store.delete(one, owner)
        handler.send_json(200, {})  # the SDK raises on 204
    else:
        raise RequestError(405, f"{method} is not allowed on {handler.url_path}.")


def _create(handler: Exchange, request: CreateRequest, fault: Fault | None) -> None:
    if request.continuation_token is not None:
        _continue(handler, request, fault)
        return
    emulator = handler.emulator
    store, owner = emulator.interactions, owner_of(handler.api_key)
    previous = request.previous_interaction_id
    chain = store.chain(previous, owner) if previous else []
    context = [s for earlier in chain for s in earlier.input_steps + earlier.steps]
    body: dict[str, Any] = {"contents": as_contents(context + request.steps)}
    if request.system_instruction:
        body["systemInstruction"] = {"parts": [{"text": request.system_instruction}]}

    def resolve(uri: str) -> wire.Attachment:
        return emulator.files.attachment(wire.file_id_from_uri(uri, "uri"))

    model_request = wire.parse_generate_body(body, request.model, resolve, count_tokens)
    model_request.search = "google_search" in request.tools
    answered = fault.params["model"] if fault and fault.kind == "answer_as" else request.model
    interaction = StoredInteraction(
        store.new_id(), owner, answered, request.steps, previous_interaction_id=previous
    )
    if request.store:
        store.add(interaction)
    turn = _Turn(
        interaction, StepWriter(interaction.interaction_id, request.thinking_summaries), fault
    )
    with reply_for(model_request, emulator.replies_rules, emulator.exec_timeout, fault) as made:
        if fault is not None and fault.kind == "continuation":
            first, *rest = split_hops(list(made), int(fault.params["hops"]))
            made = iter(first)
            if rest:
                pending = PendingHops(
                    owner, "", request.store, answered, tuple(rest), model_request
                )
                interaction.continuation_token = store.issue(
                    replace(pending, issuer=interaction.interaction_id)
                )
        _answer(handler, turn, made, model_request, request.stream)


def _continue(handler: Exchange, request: CreateRequest, fault: Fault | None) -> None:
    """A continuation hop: the next piece of an answer cut at the decode limit.

    As the service checks it: a token of a stored interaction comes with that
    interaction as ``previous_interaction_id`` and no input (the service has it); with
    ``store: false`` the input is sent again.
    """
    store, owner = handler.emulator.interactions, owner_of(handler.api_key)
    pending = store.redeem(str(request.continuation_token), owner)
    if pending.stored and request.previous_interaction_id != pending.issuer:
        raise RequestError(
            400,
            f"This continuation_token was issued by interaction {pending.issuer!r}: "
            "send that id as previous_interaction_id.",
        )
    if pending.stored and request.steps:
        raise RequestError(400, "'input' must be left out when continuing a stored interaction.")
    if not pending.stored and not request.steps:
        raise RequestError(400, "'input' is required: with store=false a continuation re-sends it.")
    previous = request.previous_interaction_id if pending.stored else None
    interaction = StoredInteraction(
        store.new_id(), owner, pending.model, [], previous_interaction_id=previous
    )
    if request.store:
        store.add(interaction)
    first, *rest = pending.hops
    if rest:
        later = replace(pending, issuer=interaction.interaction_id, hops=tuple(rest))
        interaction.continuation_token = store.issue(later)
    writer = StepWriter(interaction.interaction_id, request.thinking_summaries)
    turn = _Turn(interaction, writer, fault)
    _answer(handler, turn, iter(first), pending.context, request.stream)


def split_hops(parts: list[dict[str, Any]], hops: int) -> list[tuple[dict[str, Any], ...]]:
    """A reply's parts as ``hops`` pieces (fewer for a short reply), cut as the decode
    limit cuts: a text at the end of a piece is cut between words, and the next piece
    goes on with the rest of it."""
    size = max(1, -(-len(parts) // hops))
    pieces = [list(parts[i : i + size]) for i in range(0, len(parts), size)]
    for before, after in itertools.pairwise(pieces):
        last = before[-1]
        text = last.get("text") if not last.get("thought") else None
        cut = text.rfind(" ", 0, len(text) // 2 + 1) if text else -1
        if text and cut > 0:
            head = {k: v for k, v in last.items() if k != "citations"}
            before[-1] = {**head, "text": text[:cut]}
            after.insert(0, {**head, "text": text[cut:]})
    return [tuple(piece) for piece in pieces]


def _answer(
    handler: Exchange,
    turn: _Turn,
    made: Iterator[dict[str, Any]],
    model_request: wire.GenerateRequest,
    stream: bool,
) -> None:
    """Answer one create with ``made``'s parts: streamed, or whole as JSON."""
    interaction = turn.interaction
    try:
        if stream:
            _stream(handler, turn, made, model_request)
            return
        for part in made:
            if not turn.take(part):
                break
        turn.finish(model_request)
        if turn.fault and turn.fault.kind == "drop":
            handler.send_half_and_drop(interaction.resource())
        handler.send_json(200, interaction.resource())
    except BaseException:
        if interaction.status == "in_progress":
            interaction.set_status("failed")
        raise


@dataclass
class _Turn:
    """One ``create`` being answered: its interaction, the steps so far, its fault."""

    interaction: StoredInteraction
    writer: StepWriter
    fault: Fault | None
    parts: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    """The stream events the last part (or the end) made."""

    def take(self, part: dict[str, Any]) -> bool:
        """Add one part of the reply; False once the interaction was cancelled."""
        if self.interaction.status == "cancelled":
            self.events = []
            return False
        self.parts.append(part)
        self.events = self.writer.feed(part)
        return True

    def finish(self, model_request: wire.GenerateRequest) -> None:
        """Close the last step; record the steps, usage and final status (unless cancelled)."""
        self.events = self.writer.close()
        interaction = self.interaction
        interaction.steps = self.writer.steps
        interaction.usage = interaction_usage(model_request, self.parts)
        if interaction.status == "in_progress":
            finish = self.fault is not None and self.fault.kind == "finish"
            if interaction.continuation_token:
                interaction.set_status("requires_continuation")
            else:
                interaction.set_status("incomplete" if finish else "completed")


def _stream(
    handler: Exchange,
    turn: _Turn,
    made: Iterator[dict[str, Any]],
    model_request: wire.GenerateRequest,
) -> None:
    """Write the interaction's life as events, each step as it is produced."""
    sent = 0
    interaction = turn.interaction

    def emit(events: list[Event]) -> None:
        nonlocal sent
        for event in events:
            handler.write_event(event, event["event_type"])
            sent += 1
            handler.after_event(sent, turn.fault, MALFORMED)

    handler.start_stream()
    emit([{"event_type": "interaction.created", "interaction": interaction.summary()}])
    emit([_status_update(interaction)])
    for part in made:
        if not turn.take(part):
            break
        emit(turn.events)
    turn.finish(model_request)
    emit(turn.events)
    if interaction.status != "completed":
        emit([_status_update(interaction)])
    emit([{"event_type": "interaction.completed", "interaction": interaction.summary()}])
    handler.end_stream()


def _replay(handler: Exchange, interaction: StoredInteraction) -> None:
    """``get(id, stream=True)``: the stored interaction, input included, as a stream."""
    steps = interaction.input_steps + interaction.steps
    handler.start_stream()
    events = [
        {"event_type": "interaction.created", "interaction": interaction.summary()},
        _status_update(interaction),
        *(event for i, step in enumerate(steps) for event in step_events(i, step)),
        {"event_type": "interaction.completed", "interaction": interaction.summary()},
    ]
    for event in events:
        handler.write_event(event, event["event_type"])
    handler.end_stream()


def _status_update(interaction: StoredInteraction) -> Event:
    event: Event = {
        "event_type": "interaction.status_update",
        "interaction_id": interaction.interaction_id,
        "status": interaction.status,
    }
    if interaction.status == "requires_continuation":
        event["continuation_token"] = interaction.continuation_token
    return event
