"""Explicit context caching: a long conversation's history is sent once, then named.

Every turn re-sends the whole history, so a conversation over a large attachment bills
the attachment's tokens on every turn.  The service's explicit context cache
(``client.caches.create``) holds a prefix of the conversation (its history, the system
instruction and the code-execution tool) for a time to live; a request that names the
cache sends only the turns after it, and the cached tokens are billed at a reduced
rate (``cachedContentTokenCount`` in the usage).  A cache also costs storage per token
and hour, so it is made only for a large prefix (``context_cache_min_tokens``, never
below the service's minimum for the model) and deleted as soon as it is stale.

Sizes are *estimated* before anything is sent, since counting tokens exactly would cost
a request: about four characters per token for text, code and results, the byte count
divided by four for attached CSV data (inline or uploaded), and 258 tokens per image.

One :class:`ContextCache` per conversation; :class:`ContextCaches` holds them for a
session and its client.  A request that names a cache must not also set a system
instruction, tools or a tool config (the service refuses it): they live in the cache.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from gemini_magic.api.errors import GONE_STATUSES, service_call
from gemini_magic.api.sdk import genai, types
from gemini_magic.api.uploads import file_name_of
from gemini_magic.errors import GeminiAPIError, GeminiMagicError
from gemini_magic.settings import CacheSettings
from gemini_magic.state.conversation import ConversationStore

CHARS_PER_TOKEN = 4
IMAGE_TOKENS = 258

Notice = Callable[[str], None]
#: The size of an uploaded file from its URI, when the session already knows it.
KnownSize = Callable[[str], "int | None"]


def service_minimum(model: str) -> int:
    """The smallest cache the service accepts: 4,096 tokens for Pro models, 1,024 else."""
    return 4096 if "pro" in model.lower() else 1024


def estimate_tokens(
    contents: Sequence[types.Content], file_bytes: Callable[[str], int] = lambda uri: 0
) -> int:
    """Approximate tokens of ``contents`` (see the module docstring for the rule).

    ``file_bytes`` gives the size of an uploaded file from its URI.
    """
    chars = 0
    tokens = 0
    for content in contents:
        for part in content.parts or []:
            if part.text is not None:
                chars += len(part.text)
            elif part.executable_code is not None:
                chars += len(part.executable_code.code or "")
            elif part.code_execution_result is not None:
                chars += len(part.code_execution_result.output or "")
            elif part.inline_data is not None:
                blob = part.inline_data
                if (blob.mime_type or "").startswith("image/"):
                    tokens += IMAGE_TOKENS
                else:
                    chars += len(blob.data or b"")
            elif part.file_data is not None and part.file_data.file_uri:
                chars += file_bytes(part.file_data.file_uri)
    return tokens + -(-chars // CHARS_PER_TOKEN)


def _system_contents(config: types.GenerateContentConfig) -> list[types.Content]:
    system = config.system_instruction
    if not system:
        return []
    if isinstance(system, str):
        return [types.Content(role="user", parts=[types.Part(text=system)])]
    if isinstance(system, types.Content):
        return [system]
    raise TypeError(f"unexpected system instruction {type(system).__name__}")


def _digest(value: Any) -> str:
    import hashlib  # here, not at the top: %load_ext imports this module and stays light

    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def _turns_key(turns: Sequence[types.Content]) -> str:
    """A digest of the cached turns: a reset, a load or a re-run cell changes it."""
    return _digest([c.model_dump(mode="json", exclude_none=True) for c in turns])


def _setup_key(model: str, config: types.GenerateContentConfig) -> str:
    """A digest of what else a cache holds: caches are per model, system and tools."""
    return _digest(
        [
            model,
            [c.model_dump(mode="json", exclude_none=True) for c in _system_contents(config)],
            [t.model_dump(mode="json", exclude_none=True) for t in config.tools or []],
        ]
    )


class ContextCache:
    """The explicit cache of one conversation's history prefix (at most one at a time)."""

    def __init__(
        self, client: genai.Client, *, timeout_s: float, known_size: KnownSize = lambda uri: None
    ) -> None:
        self._client = client
        self._timeout_s = timeout_s
        self._known_size = known_size
        self.name: str | None = None
        self.cached_turns = 0
        """How many contents of the history the cache holds."""
        self.turns_key = ""
        self._setup_key = ""
        self._refusal: str | None = None
        self._file_bytes: dict[str, int] = {}

    def prepare(
        self,
        model: str,
        contents: list[types.Content],
        config: types.GenerateContentConfig,
        *,
        min_tokens: int,
        ttl_s: int,
        notice: Notice,
    ) -> tuple[list[types.Content], types.GenerateContentConfig]:
        """The contents and config to send for ``contents`` (the history, then the new turn).

        Uses the live cache when it still holds a prefix of the history; makes a new one
        when the history not yet cached is estimated above the minimum; otherwise sends
        everything as it is.
        """
        history, new = contents[:-1], contents[-1:]
        minimum = max(min_tokens, service_minimum(model))
        if self.name is not None and not self.holds_prefix_of(model, config, history):
            self.drop(notice)
        if self.name is not None:
            tail = history[self.cached_turns :]
            if self._estimate(tail) < minimum:
                return [*tail, *new], self._naming(config)
            self.drop(notice)  # the uncached tail grew large: cache the whole history
        if self._refusal is not None or not history:
            return contents, config
        if self._estimate([*_system_contents(config), *history]) < minimum:
            return contents, config
        if not self._create(model, history, config, ttl_s, notice):
            return contents, config
        return new, self._naming(config)

    def holds_prefix_of(
        self, model: str, config: types.GenerateContentConfig, history: Sequence[Any]
    ) -> bool:
        """Whether the live cache holds the start of ``history`` for this model and setup."""
        if self.name is None or len(history) < self.cached_turns:
            return False
        return (
            _setup_key(model, config) == self._setup_key
            and _turns_key(history[: self.cached_turns]) == self.turns_key
        )

    def lost(self, error: GeminiAPIError) -> bool:
        """After a failed request that named the cache: is the cache gone (expired)?

        If so it is forgotten, so the next :meth:`prepare` makes a new one.
        """
        if self.name is None or error.code not in GONE_STATUSES:
            return False
        try:
            with service_call(self._timeout_s):
                self._client.caches.get(name=self.name)
        except GeminiAPIError as exc:
            if exc.code not in GONE_STATUSES:
                raise
            self.name = None
            return True
        return False

    def drop(self, notice: Notice | None = None) -> None:
        """Delete the live cache: it stopped matching, or the session ends.

        A cache that is already gone is fine.  Any other failure is reported through
        ``notice`` (or a warning) and not raised: the cache expires by itself at the end
        of its time to live, and the user's prompt should not fail over it.
        """
        name, self.name = self.name, None
        if name is None:
            return
        try:
            with service_call(self._timeout_s):
                self._client.caches.delete(name=name)
        except GeminiMagicError as error:
            if isinstance(error, GeminiAPIError) and error.code in GONE_STATUSES:
                return
            message = (
                f"The context cache {name} could not be deleted ({error.message}); "
                "it is deleted by the service when its time to live ends."
            )
            if notice is not None:
                notice(message)
            else:
                warnings.warn(message, RuntimeWarning, stacklevel=2)

    # --- internals ----------------------------------------------------------------

    def _naming(self, config: types.GenerateContentConfig) -> types.GenerateContentConfig:
        """``config`` naming the cache, without what the cache holds (the service says so)."""
        return config.model_copy(
            update={
                "cached_content": self.name,
                "system_instruction": None,
                "tools": None,
                "tool_config": None,
            }
        )

    def _create(
        self,
        model: str,
        history: list[types.Content],
        config: types.GenerateContentConfig,
        ttl_s: int,
        notice: Notice,
    ) -> bool:
        """Make a cache of ``history``; False (with a notice) if the service refused."""
        try:
            with service_call(self._timeout_s):
                cache = self._client.caches.create(
                    model=model,
                    config=types.CreateCachedContentConfig(
                        contents=history,
                        system_instruction=config.system_instruction,
                        tools=config.tools,
                        tool_config=config.tool_config,
                        ttl=f"{ttl_s}s",
                        display_name="gemini-magic conversation",
                    ),
                )
        except GeminiAPIError as error:
            references_files = any(p.file_data for c in history for p in c.parts or [])
            if error.code in (400, 403, 404) and not (error.code == 403 and references_files):
                self._refusal = error.message
                notice(
                    f"Context caching is off for this conversation: {error.message} "
                    "(the whole history is sent with each prompt)."
                )
            else:
                notice(f"No context cache this time ({error.message}); the history was sent.")
            return False
        self.name = cache.name
        self.cached_turns = len(history)
        self.turns_key = _turns_key(history)
        self._setup_key = _setup_key(model, config)
        usage = cache.usage_metadata
        size = f"{usage.total_token_count:,} tokens" if usage and usage.total_token_count else ""
        notice(
            f"Context cache made: the {len(history) // 2} earlier turn(s) ({size or 'history'}) "
            f"are sent once and named from now on; it lives {ttl_s:,} s."
        )
        return True

    def _estimate(self, contents: Sequence[types.Content]) -> int:
        return estimate_tokens(contents, self._file_size)

    def _file_size(self, uri: str) -> int:
        """An uploaded file's size in bytes: known if this session uploaded it, else asked
        of the Files API once per URI."""
        known = self._known_size(uri)
        if known is not None:
            return known
        if uri not in self._file_bytes:
            try:
                with service_call(self._timeout_s):
                    size = self._client.files.get(name=file_name_of(uri)).size_bytes or 0
            except GeminiAPIError as exc:
                if exc.code not in GONE_STATUSES:
                    raise
                size = 0  # gone: the request's own repair of expired uploads handles it
            self._file_bytes[uri] = size
        return self._file_bytes[uri]


class ContextCaches:
    """The context caches of one session and client, one per conversation."""

    def __init__(self, new_cache: Callable[[], ContextCache]) -> None:
        """``new_cache`` makes the (empty) cache of a conversation seen the first time."""
        self._new_cache = new_cache
        self._by_conversation: dict[str, ContextCache] = {}

    def prepare(
        self,
        conversation: str,
        store: ConversationStore,
        model: str,
        contents: list[types.Content],
        config: types.GenerateContentConfig,
        notice: Notice,
        *,
        settings: CacheSettings,
        resend_media: bool,
    ) -> tuple[list[types.Content], types.GenerateContentConfig]:
        """What to send for a prompt of ``conversation`` (see :meth:`ContextCache.prepare`).

        First drops the caches that no longer match their conversation (reset, load,
        ``--new``), or every cache when caching was switched off.
        """
        self._sweep(store, resend_media, notice)
        if not settings.enabled:
            self.close(notice)
            return contents, config
        cache = self._by_conversation.get(conversation)
        if cache is None:
            cache = self._new_cache()
            self._by_conversation[conversation] = cache
        return cache.prepare(
            model,
            contents,
            config,
            min_tokens=settings.min_tokens,
            ttl_s=settings.ttl_s,
            notice=notice,
        )

    def lost(self, conversation: str, error: GeminiAPIError) -> bool:
        """Whether the conversation's cache was gone (then the next prepare remakes it)."""
        cache = self._by_conversation.get(conversation)
        return cache is not None and cache.lost(error)

    def close(self, notice: Notice | None = None) -> None:
        """Delete every cache (the session or its client ends, or caching was turned off)."""
        for cache in self._by_conversation.values():
            cache.drop(notice)
        self._by_conversation.clear()

    def _sweep(self, store: ConversationStore, resend_media: bool, notice: Notice) -> None:
        for name, cache in list(self._by_conversation.items()):
            if cache.name is None:
                continue
            conversation = store.conversations.get(name)
            history = (
                conversation.context_for(None, resend_media=resend_media) if conversation else []
            )
            # Only the turns: model and system instruction are checked by the next prompt.
            if (
                len(history) < cache.cached_turns
                or _turns_key(history[: cache.cached_turns]) != cache.turns_key
            ):
                cache.drop(notice)
