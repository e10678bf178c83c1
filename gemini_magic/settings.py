"""The settings of one prompt, as one frozen value.

The magic turns its traits plus the cell's options into a :class:`TurnSettings` and hands
that down; nothing below the magic reads a trait.  A value cannot change under a running
turn, and a turn can be read (and tested) without an IPython shell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_CONVERSATION = "default"

#: Where the last answer always is, in the user's namespace.
LAST_RESPONSE_NAME = "_gemini"

#: The APIs a turn can go through: the Interactions API (the service keeps the
#: conversation) and the classic generateContent (the client re-sends it).
APIS = ("interactions", "generate_content")

#: The thinking levels a prompt can ask for (models take some of them).
THINKING_LEVELS = ("minimal", "low", "medium", "high", "xhigh")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a failed call (before anything was shown)."""

    attempts: int = 4
    initial_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up."""
        if attempt >= self.attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return min(self.max_delay, self.initial_delay * (2 ** (attempt - 1)))


@dataclass(frozen=True)
class CacheSettings:
    """Explicit context caching of long generateContent conversations."""

    enabled: bool = True
    min_tokens: int = 32_768
    ttl_s: int = 3600


@dataclass(frozen=True)
class Limits:
    """The caps one prompt must keep to; each is refused with its size and a hint.

    ``max_attachment_bytes`` is a frame's CSV (about what fills a 1M-token window),
    ``max_file_bytes`` any other one file (image, figure, file, error),
    ``max_request_bytes`` all attachments of one prompt together, ``max_inline_chars`` the
    ``str()`` of one pasted object, ``max_prompt_chars`` the prompt text.
    """

    max_attachment_bytes: int = 2_000_000
    max_file_bytes: int = 20_000_000
    max_request_bytes: int = 50_000_000
    max_inline_chars: int = 20_000
    max_prompt_chars: int = 1_000_000


@dataclass(frozen=True)
class Connection:
    """Where the session's client talks to, and how long it waits for a byte."""

    offline: bool = False
    offline_replies: str = ""
    timeout_s: float = 120.0


@dataclass(frozen=True)
class TurnSettings:
    """Everything one ``%%gemini`` prompt is sent with (traits, then the cell's options)."""

    model: str
    conversation: str = DEFAULT_CONVERSATION
    api: str = "interactions"
    #: Let Google keep the requests (False: ``store: false`` on both APIs, and on
    #: Interactions every turn re-sends the conversation).
    store: bool = True
    thinking_level: str | None = None
    #: Google Search grounding beside code execution (``--search``).
    google_search: bool = False
    temperature: float | None = None
    system_instruction: str | None = None
    new: bool = False
    stream: bool = True
    sample: int | None = None
    sample_seed: int = 0
    show_thoughts: bool = False
    cell_id: str | None = None
    timeout_s: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    limits: Limits = field(default_factory=Limits)
    upload_threshold: int = 200_000
    resend_media: bool = False
    context_cache: CacheSettings = field(default_factory=CacheSettings)
    max_output_lines: int = 200
    max_output_chars: int = 20_000
    #: Whether the front end renders display updates (a notebook) or prints each
    #: output as it comes (terminal IPython): then text is streamed as it arrives.
    live_updates: bool = True
