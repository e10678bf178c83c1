"""The classic generateContent API as a :class:`~gemini_magic.api.backend.Backend`.

The client keeps the conversation and sends it whole with every prompt: the earlier
turns (code, results and signatures included), then the new one.  Large attachments go
through the Files API once and are named by URI; a long history over them is held in an
explicit context cache (``gemini_magic.api.caching``) and named instead of re-sent.

The stream is read in the calling (main) thread, so a kernel interrupt arrives as
``KeyboardInterrupt`` inside the read and the ``finally`` below closes the connection at
once.  Every part is handed on the moment its event is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from gemini_magic.api.backend import Answer, Backend, Notice, OnPart, Reader
from gemini_magic.api.caching import ContextCaches
from gemini_magic.api.errors import GONE_STATUSES, service_call
from gemini_magic.api.parts import user_content
from gemini_magic.api.sdk import genai, types
from gemini_magic.api.uploads import UploadCache
from gemini_magic.errors import GeminiAPIError, GeminiMagicError
from gemini_magic.inputs.attachment import PreparedPrompt
from gemini_magic.settings import TurnSettings
from gemini_magic.state.conversation import Conversation, ConversationStore, replace_files
from gemini_magic.text import enum_text


@dataclass(frozen=True)
class ContentRequest:
    """The history and new turn of one generateContent call, and how it was repaired."""

    conversation: str
    history: list[types.Content]
    user: types.Content
    config: types.GenerateContentConfig
    earlier_turns: int
    recached: bool = False
    renewed: bool = False

    @property
    def contents(self) -> list[types.Content]:
        return [*self.history, self.user]


class GenerateContentBackend(Backend[ContentRequest]):
    """Builds, sends and repairs generateContent requests for one session."""

    def __init__(
        self,
        client: genai.Client,
        *,
        uploads: UploadCache,
        caches: ContextCaches,
        store: ConversationStore,
    ) -> None:
        self._client = client
        self._uploads = uploads
        self._caches = caches
        self._store = store

    def build(
        self, prepared: PreparedPrompt, conversation: Conversation, settings: TurnSettings
    ) -> ContentRequest:
        thinking: dict[str, Any] = {}
        if settings.show_thoughts:
            thinking["include_thoughts"] = True
        if settings.thinking_level:
            thinking["thinking_level"] = settings.thinking_level.upper()
        tools = [types.Tool(code_execution=types.ToolCodeExecution())]
        if settings.google_search:
            tools.append(types.Tool(google_search=types.GoogleSearch()))
        config = types.GenerateContentConfig(
            tools=tools,
            temperature=settings.temperature,
            system_instruction=settings.system_instruction or None,
            thinking_config=types.ThinkingConfig(**thinking) if thinking else None,
        )
        # --new: sent without the history, which is forgotten only once the answer came.
        history = (
            []
            if settings.new
            else conversation.context_for(settings.cell_id, resend_media=settings.resend_media)
        )
        return ContentRequest(
            conversation=conversation.name,
            history=history,
            user=user_content(
                prepared, lambda a: self._uploads.uri_for(a, settings.upload_threshold)
            ),
            config=config,
            earlier_turns=len(history) // 2,
        )

    def send(
        self, request: ContentRequest, settings: TurnSettings, on_part: OnPart, notice: Notice
    ) -> Answer:
        # With a context cache, only the turns after the cached history are sent.
        contents, config = self._caches.prepare(
            request.conversation,
            self._store,
            settings.model,
            request.contents,
            request.config,
            notice,
            settings=settings.context_cache,
            resend_media=settings.resend_media,
        )
        reader = _Reader(on_part)
        models = self._client.models
        with service_call(settings.timeout_s):
            if settings.stream:
                chunks = models.generate_content_stream(
                    model=settings.model, contents=contents, config=config
                )
                try:
                    for chunk in chunks:
                        reader.take(chunk)
                finally:
                    chunks.close()
            else:
                reader.take(
                    models.generate_content(model=settings.model, contents=contents, config=config)
                )
        return reader.answer()

    def repair(
        self, request: ContentRequest, error: GeminiMagicError, notice: Notice
    ) -> ContentRequest | None:
        """Make the context cache again, or upload expired files again, once each."""
        if not isinstance(error, GeminiAPIError) or error.code not in GONE_STATUSES:
            return None
        # A live cache of the conversation was named by the request (see caching).
        if not request.recached and self._caches.lost(request.conversation, error):
            notice("The context cache had expired; it is made again.")
            return replace(request, recached=True)
        replacements = None if request.renewed else self._uploads.renewed_parts(request.contents)
        if replacements is None:
            return None
        for conversation in self._store:
            conversation.replace_files(replacements)
        notice("An uploaded attachment had expired; it was uploaded again.")
        replaced = replace_files(request.contents, replacements)
        return replace(request, history=replaced[:-1], user=replaced[-1], renewed=True)


class _Reader(Reader):
    """Reads the chunks of one generateContent attempt."""

    def __init__(self, on_part: OnPart) -> None:
        super().__init__(on_part)
        self._finish_reason: str | None = None

    @property
    def finish_reason(self) -> str | None:
        return self._finish_reason

    def take(self, chunk: types.GenerateContentResponse) -> None:
        if chunk.usage_metadata is not None:
            self.usage = chunk.usage_metadata
        if chunk.model_version:
            self.model_version = chunk.model_version
        if not chunk.candidates:
            feedback = chunk.prompt_feedback
            if feedback is not None and feedback.block_reason is not None:
                reason = enum_text(feedback.block_reason)
                raise GeminiAPIError(
                    f"Gemini refused the prompt ({reason}).",
                    status=reason,
                    service_message=feedback.block_reason_message,
                    hint="Rephrase the prompt or the attached data.",
                )
            return
        candidate = chunk.candidates[0]
        if candidate.finish_reason is not None:
            self._finish_reason = enum_text(candidate.finish_reason)
        if candidate.grounding_metadata is not None:
            self.grounding.take_metadata(candidate.grounding_metadata)
        if candidate.content is not None:
            for part in candidate.content.parts or []:
                self.emit(part)
