"""One turn, top to bottom: prepare → build → send → record → answer.

:func:`run_turn` is the whole flow of a ``%%gemini`` prompt, whichever API carries it:

1. **prepare** the attachments: every ``{name}`` is resolved and encoded before anything
   is sent, so a typo or an oversized frame fails at once with nothing sent;
2. **build** the request (the backend of the chosen API; large files are uploaded once);
3. **send** it, streaming the parts into the view, retrying what is worth retrying
   before anything was shown, and repairing what the service says is gone (an expired
   upload, context cache or stored conversation) by sending again;
4. **record** the exchange, only now that the answer arrived whole: a failed or
   interrupted turn leaves the conversation as it was;
5. return the **answer** object (``_gemini``, ``-o NAME``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gemini_magic.answer.binding import Binding, binding_record, conversation_bindings
from gemini_magic.answer.response import GeminiResponse
from gemini_magic.api.backend import Answer, Backend, R
from gemini_magic.api.parts import files_in, usage_dict
from gemini_magic.api.sdk import types
from gemini_magic.display.grounding import SearchBlock
from gemini_magic.display.stream import StreamView
from gemini_magic.errors import GeminiAPIError, GeminiMagicError, UsageError
from gemini_magic.inputs.error import LastError
from gemini_magic.inputs.prompt import PreparedPrompt, prepare_prompt
from gemini_magic.models import OFFLINE_MARK, answered_by_note, check_thinking, temperature_note
from gemini_magic.session import GeminiSession
from gemini_magic.settings import TurnSettings
from gemini_magic.state.conversation import Exchange

#: Finish reasons of an answer that ended as the model meant it to.
_COMPLETE = frozenset({None, "STOP", "FINISH_REASON_UNSPECIFIED"})

#: What a model name can be: ``gemini-2.5-flash``, ``models/...``, ``tunedModels/...``,
#: ``publishers/google/models/...``.  The name goes into the request's URL path, so a
#: space, ``:``, ``?`` or ``#`` would make a different request (or none the service
#: knows); such a name is refused before anything is sent.
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*")


@dataclass(frozen=True)
class TurnInput:
    """What one prompt sends: its text, the namespace its ``{name}`` references are
    resolved in, the files named by ``-f`` (relative to ``cwd``) and the last error."""

    template: str
    namespace: Mapping[str, Any]
    files: tuple[str, ...] = ()
    last_error: LastError | None = None
    cwd: Path | None = None


def run_turn(
    session: GeminiSession,
    settings: TurnSettings,
    prompt: TurnInput,
    *,
    view: StreamView | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> GeminiResponse:
    """Send the prompt (with what it references) and show the answer.

    Nothing is sent when the prompt or a reference is bad.  On any error or interrupt
    the shown part stays, marked incomplete, and the conversation is as it was.  The
    caller saves the conversation once it has kept the answer, so a failed save cannot
    lose it.
    """
    pending = session.history.take_pending_error()
    if pending is not None:
        raise pending
    check_model_name(settings.model)
    check_thinking(settings.model, settings.thinking_level)
    # Step 1, prepare: every reference resolved and encoded before anything is sent.
    prepared = prepare_prompt(
        prompt.template,
        prompt.namespace,
        limits=settings.limits,
        sample=settings.sample,
        seed=settings.sample_seed,
        files=prompt.files,
        last_error=prompt.last_error,
        cwd=prompt.cwd,
    )
    view = view or new_view(settings)
    for hint in prepared.hints:
        view.notice(hint)
    conversation = session.store.get(settings.conversation)
    # The turns the model sees with this one (copied: recording changes the list).
    earlier = [] if settings.new else list(conversation.before(settings.cell_id))
    backend = session.backend(settings.api, store=settings.store)
    request = backend.build(prepared, conversation, settings)
    view.notice(sent_line(prepared.sent_summary(), earlier=request.earlier_turns))
    _note(view, temperature_note(settings.model, settings.temperature))
    started = time.perf_counter()
    answer = send(backend, request, settings, view, sleep)
    latency_s = time.perf_counter() - started
    _note(view, answered_by_note(settings.model, answer.model_version))
    attached = _attached(prepared)
    record(session, settings, prompt.template, request.user, answer, attached)
    response = _response(settings, prompt.template, answer, latency_s, prepared, earlier, attached)
    if answer.grounding:
        view.show(SearchBlock(answer.grounding))
    if answer.finish_reason not in _COMPLETE:
        view.notice(
            f"⚠ The answer ended early (finish reason {answer.finish_reason}): what is "
            "shown is all the service sent, and it was kept in the conversation."
        )
    view.finish(response.footer)
    return response


def send(
    backend: Backend[R],
    request: R,
    settings: TurnSettings,
    view: StreamView,
    sleep: Callable[[float], None] = time.sleep,
) -> Answer:
    """Step 3: send, retry and repair until an answer arrived whole (or cannot).

    Retries and repairs happen only before anything was shown: after the first part
    the user has seen half an answer, and a second attempt would show another below it.
    """
    shown = 0

    def on_part(part: types.Part) -> None:
        nonlocal shown
        shown += 1
        view.add(part)

    policy = settings.retry
    attempt = 0
    try:
        while True:
            attempt += 1
            try:
                answer = backend.send(request, settings, on_part, view.notice)
                break
            except GeminiMagicError as error:
                if shown:
                    raise
                repaired = backend.repair(request, error, view.notice)
                if repaired is not None:
                    request = repaired
                    continue
                wait = policy.delay(attempt, error.retry_after) if error.retryable else None
                if wait is None:
                    raise
                view.notice(
                    f"{error.message.splitlines()[0]} Retrying in {wait:.1f} s "
                    f"(attempt {attempt + 1} of {policy.attempts})."
                )
                sleep(wait)
    except KeyboardInterrupt:
        view.abort("", interrupted=True)
        raise
    except GeminiMagicError as error:
        if shown:
            view.abort(error.message)
        raise
    if not answer.parts:
        raise GeminiAPIError(
            f"Gemini returned no answer (finish reason: {answer.finish_reason or 'none'}).",
            hint="Nothing was added to the conversation; rephrase the prompt and retry.",
        )
    return answer


def record(
    session: GeminiSession,
    settings: TurnSettings,
    template: str,
    user: types.Content,
    answer: Answer,
    attached: list[dict[str, Any]] | None = None,
) -> None:
    """Step 4: the exchange enters the conversation (``--new`` forgets the old one now)."""
    if settings.new:
        session.store.reset(settings.conversation)
    usage = usage_dict(answer.usage)
    session.store.get(settings.conversation).record(
        Exchange(
            user=user,
            model=types.Content(role="model", parts=answer.parts),
            prompt=template,
            cell_id=settings.cell_id,
            model_name=settings.model,
            usage=usage,
            api=settings.api,
            # Only a stored interaction can be continued by naming it.
            interaction_id=answer.interaction_id if settings.store else None,
            attached=attached or [],
        )
    )
    session.add_usage(usage)


def check_model_name(model: str) -> None:
    """Raise a :class:`UsageError` for a model name that cannot be a model's name."""
    if not _MODEL_NAME.fullmatch(model):
        raise UsageError(
            f"{model!r} is not a model name; nothing was sent.",
            hint="See the models your key can use with `%gemini models`, and pick one with "
            "`%%gemini --model NAME` or `%config GeminiMagics.model = 'NAME'`.",
        )


def sent_line(summary: str, *, earlier: int) -> str:
    """The "Sent:" line, saying too that the conversation's earlier turns go along.

    They left the machine before, but the model sees them again with this prompt
    (re-sent, held in the service's context cache, or kept by the service).
    """
    if not earlier:
        return summary
    turns = f"{earlier} earlier turn{'' if earlier == 1 else 's'}"
    return f"{summary.rstrip('.')}; with it the conversation's {turns}."


def _note(view: StreamView, text: str | None) -> None:
    if text:
        view.notice(text)


def new_view(settings: TurnSettings, check: Callable[[], None] | None = None) -> StreamView:
    """The streaming view a turn with these settings shows its answer in.

    ``check`` runs at every part (a background turn raises there when it was cancelled).
    """
    return StreamView(
        show_thoughts=settings.show_thoughts,
        max_output_lines=settings.max_output_lines,
        max_output_chars=settings.max_output_chars,
        live_updates=settings.live_updates,
        check=check,
    )


def _attached(prepared: PreparedPrompt) -> list[dict[str, Any]]:
    """The turn's files that stand for a live object, as the conversation keeps them."""
    records = []
    for position, attachment in enumerate(prepared.attachments):
        binding = Binding.for_attachment(attachment, position)
        if binding is not None:
            records.append(binding_record(binding, position))
    return records


def _response(
    settings: TurnSettings,
    template: str,
    answer: Answer,
    latency_s: float,
    prepared: PreparedPrompt,
    earlier: list[Exchange],
    attached: list[dict[str, Any]],
) -> GeminiResponse:
    """Step 5: the answer as the object the user keeps.

    It keeps which live object each file of the conversation stood for (not the files'
    bytes), so ``%gemini run`` can run the answer's code on those objects: the sandbox
    keeps a conversation's files, numbered across its turns, so the code may read a file
    an earlier turn attached, by either of its names.
    """
    turns = [(e.attached, files_in(e.user)) for e in earlier]
    bindings = conversation_bindings([*turns, (attached, len(prepared.attachments))])

    return GeminiResponse(
        prompt=template,
        parts=answer.parts,
        model=settings.model,
        model_version=answer.model_version,
        usage=answer.usage,
        offline=OFFLINE_MARK in f"{answer.model_version} {answer.interaction_id}",
        latency_s=latency_s,
        conversation=settings.conversation,
        finish_reason=answer.finish_reason,
        grounding=answer.grounding,
        bindings=bindings,
        hops=answer.hops,
    )
