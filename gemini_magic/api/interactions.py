"""The Interactions API as a :class:`~gemini_magic.api.backend.Backend` (the default).

The service keeps the conversation: each turn sends only its new input and names the
interaction it follows (``previous_interaction_id``).  Locally every exchange keeps its
interaction id and its steps (as parts), for the display, ``%gemini history``, the
history file and for repairing a chain the service no longer has: stored interactions
expire (1 day on the free tier, 55 days on paid tiers) or belong to another key, and
then the turn is sent again with the conversation as input steps, signatures included.
With ``store=False`` nothing is kept at Google and every turn sends the history so.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Any

from gemini_magic.api.abort import current, unarmed
from gemini_magic.api.backend import Answer, Backend, Notice, OnPart
from gemini_magic.api.blocks import (
    DOCUMENT_TYPES,
    as_text_part,
    content_blocks,
    history_steps,
    inline_block,
    is_text,
    media_block,
    takes_file,
)
from gemini_magic.api.errors import GONE_STATUSES, service_call
from gemini_magic.api.parts import user_content
from gemini_magic.api.sdk import genai, types
from gemini_magic.api.steps import StepReader
from gemini_magic.api.uploads import UploadCache
from gemini_magic.errors import GeminiAPIError, GeminiMagicError
from gemini_magic.inputs.attachment import Attachment, PreparedPrompt
from gemini_magic.settings import TurnSettings
from gemini_magic.state.conversation import Conversation, Exchange, replace_files, without_media
from gemini_magic.text import count

API = "interactions"

#: Statuses with which the service refuses a ``previous_interaction_id`` it does not
#: have (expired, deleted, another key's or project's): the chain is gone.
_CHAIN_GONE = frozenset({400, 403, 404})


def _is_gone(error: GeminiMagicError) -> bool:
    return isinstance(error, GeminiAPIError) and error.code in GONE_STATUSES


def _names_the_chain(error: GeminiMagicError) -> bool:
    """Whether a refusal is about the stored conversation (not, say, a bad API key).

    The service answers an unknown interaction with 404; a 400 or 403 counts only when
    its message speaks of the interaction.
    """
    if not isinstance(error, GeminiAPIError) or error.code not in _CHAIN_GONE:
        return False
    return error.code == 404 or "interaction" in (error.service_message or "").lower()


@dataclass(frozen=True)
class InteractionRequest:
    """One ``interactions.create`` call: its wire input, and what it continues.

    ``input`` is built once, by :meth:`InteractionsBackend.build` (or by a repair), as
    the content blocks and steps the service takes; sending only sends it.
    """

    #: The new user turn, as the conversation records it.
    user: types.Content
    #: The new user turn as the service takes it: content blocks.
    blocks: list[dict[str, Any]]
    #: The recorded turns the model should see, oldest first (for a re-send as steps).
    turns: tuple[tuple[types.Content, types.Content], ...]
    previous_id: str | None
    store: bool
    earlier_turns: int
    #: What is sent: the new turn alone when chained, else the conversation as steps.
    input: list[dict[str, Any]]
    resent: bool = False
    renewed: bool = False


def _input(
    blocks: list[dict[str, Any]],
    turns: tuple[tuple[types.Content, types.Content], ...],
    previous_id: str | None,
) -> list[dict[str, Any]]:
    """The new turn's blocks when chained (or first), else the conversation as steps."""
    if previous_id is not None or not turns:
        return blocks
    return [*history_steps(list(turns)), {"type": "user_input", "content": blocks}]


class InteractionsBackend(Backend[InteractionRequest]):
    """Builds, sends and repairs Interactions requests for one session."""

    def __init__(self, client: genai.Client, *, uploads: UploadCache, store: bool) -> None:
        self._client = client
        self._uploads = uploads
        self._store = store

    def build(
        self, prepared: PreparedPrompt, conversation: Conversation, settings: TurnSettings
    ) -> InteractionRequest:
        threshold = settings.upload_threshold
        before = [] if settings.new else conversation.before(settings.cell_id)
        # What goes as no image or document block goes inline, as text, whatever its size.
        uris = {
            id(a): self._uploads.uri_for(a, threshold) if takes_file(a.mime_type) else None
            for a in prepared.attachments
        }
        note = _sandbox_names(prepared, first=_files_in(e.user for e in before))
        blocks = _user_blocks(prepared, uris, note)
        previous = _chain_end(before) if self._store else None
        turns = tuple(
            (e.user, e.model if settings.resend_media else without_media(e.model)) for e in before
        )
        return InteractionRequest(
            user=user_content(prepared, lambda a: uris[id(a)], note),
            blocks=blocks,
            turns=turns,
            previous_id=previous,
            store=self._store,
            earlier_turns=len(before),
            input=_input(blocks, turns, previous),
        )

    def send(
        self, request: InteractionRequest, settings: TurnSettings, on_part: OnPart, notice: Notice
    ) -> Answer:
        reader = StepReader(on_part)
        arguments = self._arguments(request, settings)
        interactions = self._client.interactions
        try:
            with service_call(settings.timeout_s):
                if settings.stream:
                    with interactions.create(**arguments, stream=True) as events:
                        for event in events:
                            reader.event(event)
                    reader.finish()
                else:
                    reader.interaction(interactions.create(**arguments))
        except KeyboardInterrupt:
            # A thread whose sends can be ended from outside (``api.abort``) is a
            # background worker: it ends once the service was told, leaving nothing
            # running behind it.
            self._cancel(reader.interaction_id, request.store, here=current() is not None)
            raise
        return reader.answer()

    def repair(
        self, request: InteractionRequest, error: GeminiMagicError, notice: Notice
    ) -> InteractionRequest | None:
        """Send a text file the service refused as a document as text, upload expired
        files again, or send a chain the service refused again as steps, once each."""
        refused = _refused_text_type(request, error)
        if refused is not None:
            notice(
                f"The service refused {refused} as a document, so the file was sent again "
                "as text: the model reads it, but the sandbox does not have it."
            )
            parts = [
                as_text_part(p.inline_data)
                if p.inline_data is not None and p.inline_data.mime_type == refused
                else p
                for p in request.user.parts or []
            ]
            user = request.user.model_copy(update={"parts": parts})
            blocks = content_blocks(user)
            return replace(
                request,
                user=user,
                blocks=blocks,
                input=_input(blocks, request.turns, request.previous_id),
            )
        renewed = self._renew_files(request, error)
        if renewed is not None:
            notice("An uploaded attachment had expired; it was uploaded again.")
            return renewed
        if request.previous_id is None or request.resent:
            return None
        # After its files were uploaded again, a refusal about a file is the stored
        # conversation still naming the expired upload: re-sending it as steps repairs it.
        if not (_names_the_chain(error) or (request.renewed and _is_gone(error))):
            return None
        turns = len(request.turns)
        notice(
            "The stored conversation had expired at the service (or belongs to another "
            f"key); its {count(turns, 'earlier turn')} "
            f"{'was' if turns == 1 else 'were'} sent again."
        )
        return replace(
            request,
            previous_id=None,
            input=_input(request.blocks, request.turns, None),
            resent=True,
        )

    def _renew_files(
        self, request: InteractionRequest, error: GeminiMagicError
    ) -> InteractionRequest | None:
        if request.renewed or not _is_gone(error):
            return None
        contents = [request.user, *(content for turn in request.turns for content in turn)]
        replacements = self._uploads.renewed_parts(contents)
        if replacements is None:
            return None
        user, *rest = replace_files(contents, replacements)
        turns = tuple(zip(rest[::2], rest[1::2], strict=True))
        blocks = content_blocks(user)
        return replace(
            request,
            user=user,
            blocks=blocks,
            turns=turns,
            input=_input(blocks, turns, request.previous_id),
            renewed=True,
        )

    def _arguments(self, request: InteractionRequest, settings: TurnSettings) -> dict[str, Any]:
        config: dict[str, Any] = {}
        if settings.temperature is not None:
            config["temperature"] = settings.temperature
        if settings.show_thoughts:
            config["thinking_summaries"] = "auto"
        if settings.thinking_level:
            config["thinking_level"] = settings.thinking_level
        arguments: dict[str, Any] = {
            "model": settings.model,
            "input": request.input,
            "tools": [{"type": "code_execution"}]
            + ([{"type": "google_search"}] if settings.google_search else []),
            "store": request.store,
        }
        if request.previous_id is not None:
            arguments["previous_interaction_id"] = request.previous_id
        if settings.system_instruction:
            arguments["system_instruction"] = settings.system_instruction
        if config:
            arguments["generation_config"] = config
        return arguments

    def _cancel(self, interaction_id: str | None, stored: bool, *, here: bool = False) -> None:
        """Ask the service to stop an interrupted interaction: in the background, or
        ``here`` (in this thread, for at most 2 s).

        Best effort, and never in the user's way: an interrupt of the main thread returns
        at once (a cancel can wait on the very interaction it stops), and a stored
        interaction the service cannot cancel ends by itself.
        """
        if interaction_id is None or not stored:
            return

        def cancel() -> None:
            with contextlib.suppress(GeminiMagicError), unarmed(), service_call(2.0):
                self._client.interactions.cancel(id=interaction_id, timeout=2.0)

        if here:
            cancel()
        else:
            threading.Thread(target=cancel, name="gemini-magic-cancel", daemon=True).start()


def _refused_text_type(request: InteractionRequest, error: GeminiMagicError) -> str | None:
    """The MIME type of a text file the new turn sent inline as a document, when the
    service refused the request with a 400 that names that type."""
    if not isinstance(error, GeminiAPIError) or error.code != 400:
        return None
    message = (error.service_message or error.message).lower()
    for part in request.user.parts or []:
        mime = part.inline_data.mime_type or "" if part.inline_data is not None else ""
        if is_text(mime) and mime not in DOCUMENT_TYPES and mime.lower() in message:
            return mime
    return None


def _user_blocks(
    prepared: PreparedPrompt,
    uris: dict[int, str | None],
    note: Callable[[Attachment], str | None],
) -> list[dict[str, Any]]:
    """The new user turn as content blocks, made from the attachments themselves: for
    each a text saying what it is (and where the sandbox has it), then its data (inline,
    or the uploaded file), then the prompt text.  The same turn as the conversation
    records it is :func:`~gemini_magic.api.parts.user_content`."""
    blocks: list[dict[str, Any]] = []
    for attachment in prepared.attachments:
        extra = note(attachment)
        described = attachment.describe()
        blocks.append({"type": "text", "text": f"{described}\n{extra}" if extra else described})
        uri = uris[id(attachment)]
        if uri is not None:
            blocks.append(media_block(attachment.mime_type, uri=uri))
        else:
            blocks.append(inline_block(attachment.mime_type, attachment.data, attachment.filename))
    blocks.append({"type": "text", "text": prepared.text})
    return blocks


def _files_in(contents: Iterable[types.Content]) -> int:
    """How many files (inline or uploaded) earlier user turns sent to the sandbox."""
    return sum(
        1
        for content in contents
        for part in content.parts or []
        if (part.inline_data and takes_file(part.inline_data.mime_type or "")) or part.file_data
    )


def _sandbox_names(prepared: PreparedPrompt, *, first: int) -> Callable[[Attachment], str | None]:
    """The note that names each file as the sandbox has it on this API.

    A ``document`` or ``image`` block carries no file name: the sandbox numbers the files
    of the conversation, ``input_file_0``, ``input_file_1``, ... in the order they came.
    """
    numbers: dict[int, int] = {}
    for attachment in prepared.attachments:
        if takes_file(attachment.mime_type):
            numbers[id(attachment)] = first + len(numbers)

    def note(attachment: Attachment) -> str | None:
        number = numbers.get(id(attachment))
        if number is None:
            return None
        suffix = PurePath(attachment.sandbox_names[1]).suffix
        name = f"input_file_{number}{suffix}"
        return f"On this API the sandbox has this file as `{name}` (open that name)."

    return note


def _chain_end(before: list[Exchange]) -> str | None:
    """The interaction the next turn follows: the last exchange's, if it has one."""
    if not before:
        return None
    last = before[-1]
    return last.interaction_id if last.api == API else None
