"""One prompt's round trip: the call, the stream, retries, and the mapping of failures.

The stream is read in the calling (main) thread, so a kernel interrupt arrives as
``KeyboardInterrupt`` inside the read and the ``finally`` below closes the connection at
once.  Every part is handed to ``on_part`` the moment its event is parsed: nothing waits
for the whole reply.

Retries happen here and only before anything was shown: a failure after the first part
(an error event, a dropped connection) is final for that turn, because the user has
already seen half an answer and a retry would show a different one below it.
"""

from __future__ import annotations

import datetime
import email.utils
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gemini_magic.conversation import merge_parts
from gemini_magic.errors import (
    ConfigurationError,
    GeminiAPIError,
    GeminiConnectionError,
    GeminiMagicError,
    GeminiTimeoutError,
    redact,
)

if TYPE_CHECKING:
    from google import genai
    from google.genai import types

#: Statuses worth retrying: the request may succeed a little later.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

_HINTS = {
    400: "The request was rejected as invalid; the service's message above says which part.",
    401: "Check your API key: GEMINI_API_KEY (or GOOGLE_API_KEY) must hold a valid key.",
    403: "Check your API key: GEMINI_API_KEY (or GOOGLE_API_KEY) must hold a valid key "
    "with access to the Gemini API.",
    404: "Is the model name right? See the models your key can use with `%gemini models`, "
    "and pick one with `%%gemini --model NAME` or `%config GeminiMagics.model = 'NAME'`.",
    429: "Quota or rate limit reached. Wait a minute, or see "
    "https://ai.google.dev/gemini-api/docs/rate-limits for your limits.",
}


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


@dataclass
class Answer:
    """What came back: the merged model turn and the figures about it."""

    parts: list[types.Part]
    usage: types.GenerateContentResponseUsageMetadata | None
    model_version: str | None
    finish_reason: str | None
    latency_s: float


class _Progress:
    """Collects the chunks of one attempt while handing their parts on."""

    def __init__(self, on_part: Callable[[types.Part], None]) -> None:
        self.on_part = on_part
        self.parts: list[types.Part] = []
        self.usage: Any = None
        self.model_version: str | None = None
        self.finish_reason: str | None = None

    def take(self, chunk: types.GenerateContentResponse) -> None:
        if chunk.usage_metadata is not None:
            self.usage = chunk.usage_metadata
        if chunk.model_version:
            self.model_version = chunk.model_version
        if not chunk.candidates:
            feedback = chunk.prompt_feedback
            if feedback is not None and feedback.block_reason is not None:
                reason = _enum_text(feedback.block_reason)
                raise GeminiAPIError(
                    f"Gemini refused the prompt ({reason}).",
                    status=reason,
                    service_message=feedback.block_reason_message,
                    hint="Rephrase the prompt or the attached data.",
                )
            return
        candidate = chunk.candidates[0]
        if candidate.finish_reason is not None:
            self.finish_reason = _enum_text(candidate.finish_reason)
        if candidate.content is not None:
            for part in candidate.content.parts or []:
                self.parts.append(part)
                self.on_part(part)


def _enum_text(value: Any) -> str:
    return str(getattr(value, "value", value))


def send(
    client: genai.Client,
    *,
    model: str,
    contents: Sequence[types.Content],
    config: types.GenerateContentConfig,
    stream: bool,
    on_part: Callable[[types.Part], None],
    on_retry: Callable[[GeminiMagicError, float, int], None],
    policy: RetryPolicy,
    timeout_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Answer:
    """Send one request and stream its parts to ``on_part``; return the merged answer.

    Raises a :class:`GeminiMagicError` for every failure of the service or the network;
    ``KeyboardInterrupt`` passes through after the connection is closed.
    """
    started = time.perf_counter()
    attempt = 0
    while True:
        attempt += 1
        progress = _Progress(on_part)
        try:
            if stream:
                chunks = client.models.generate_content_stream(
                    model=model, contents=list(contents), config=config
                )
                try:
                    for chunk in chunks:
                        progress.take(chunk)
                finally:
                    chunks.close()
            else:
                progress.take(
                    client.models.generate_content(
                        model=model, contents=list(contents), config=config
                    )
                )
        except GeminiMagicError:
            raise
        except Exception as exc:
            error = map_error(exc, timeout_s=timeout_s)
            if progress.parts or not _retryable(exc):
                raise error from None
            wait = policy.delay(attempt, _retry_after(exc))
            if wait is None:
                raise error from None
            on_retry(error, wait, attempt + 1)
            sleep(wait)
            continue
        return Answer(
            parts=merge_parts(progress.parts),
            usage=progress.usage,
            model_version=progress.model_version,
            finish_reason=progress.finish_reason,
            latency_s=time.perf_counter() - started,
        )


def _retryable(exc: BaseException) -> bool:
    import httpx2
    from google.genai import errors

    if isinstance(exc, errors.APIError):
        return exc.code in RETRY_STATUSES
    return isinstance(exc, (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.RemoteProtocolError))


def _retry_after(exc: BaseException) -> float | None:
    """How long the service asked us to wait, if it said so.

    The Gemini API puts it in the error body (``google.rpc.RetryInfo``, ``"retryDelay":
    "37s"``); HTTP servers and proxies use the ``Retry-After`` header (seconds or an HTTP
    date).  A value that cannot be read is ignored: the back-off applies instead.
    """
    delay = _retry_info_delay(getattr(exc, "details", None))
    if delay is not None:
        return delay
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, as RFC 5322 means it
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - time.time())


def _retry_info_delay(details: Any) -> float | None:
    """``retryDelay`` of a ``google.rpc.RetryInfo`` in an error body, in seconds."""
    error = details.get("error") if isinstance(details, dict) else None
    items = error.get("details") if isinstance(error, dict) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("RetryInfo"):
            delay = item.get("retryDelay")
            if isinstance(delay, str) and delay.endswith("s"):
                try:
                    return max(0.0, float(delay[:-1]))
                except ValueError:
                    return None
    return None


def map_error(exc: BaseException, *, timeout_s: float) -> GeminiMagicError:
    """The project's error for a failure raised by the SDK or its HTTP library.

    Short, with the HTTP status, the service's own message, and a hint where one helps.
    Anything unexpected is a bug and is not translated: the caller re-raises it.
    """
    import httpx2
    from google.genai import errors

    if isinstance(exc, errors.UnknownApiResponseError):
        return GeminiAPIError(
            f"Gemini sent a reply that could not be read: {redact(str(exc))[:300]}",
            hint="This is usually transient; run the cell again.",
        )
    if isinstance(exc, errors.APIError):
        code = exc.code
        status = exc.status if isinstance(exc.status, str) else None
        message = exc.message if isinstance(exc.message, str) else str(exc.details)[:300]
        hint = _HINTS.get(code) if isinstance(code, int) else None
        if isinstance(code, int) and code >= 500:
            hint = "The service had a problem; it was retried. Try again in a moment."
        if code == 400 and message and "API key" in message:
            hint = _HINTS[403]
        words = " ".join(str(w) for w in (code, status) if w)
        return GeminiAPIError(
            f"Gemini answered {words}: {message}",
            code=code if isinstance(code, int) else None,
            status=status,
            service_message=message,
            hint=hint,
        )
    if _is_auth_error(exc):
        return ConfigurationError(
            f"Vertex AI credentials are missing or unusable: {redact(str(exc))[:300]}",
            hint="Run `gcloud auth application-default login` (or set "
            "GOOGLE_APPLICATION_CREDENTIALS), or unset GOOGLE_GENAI_USE_VERTEXAI to use "
            "a Gemini API key.",
        )
    if isinstance(exc, httpx2.TimeoutException):
        return GeminiTimeoutError(
            f"No answer from Gemini within {timeout_s:g} s.",
            hint="Raise the limit with %config GeminiMagics.timeout = <seconds>, or try again.",
        )
    if isinstance(exc, httpx2.TransportError):
        return GeminiConnectionError(
            f"The connection to Gemini failed: {type(exc).__name__}: {redact(str(exc))[:200]}",
            hint="Check the network (and GOOGLE_GEMINI_BASE_URL, if set), then run the cell again.",
        )
    raise exc


def _is_auth_error(exc: BaseException) -> bool:
    """Whether google-auth failed to find or refresh Vertex AI credentials."""
    try:
        from google.auth.exceptions import GoogleAuthError
    except ImportError:  # google-auth comes with the SDK; be safe all the same
        return False
    return isinstance(exc, GoogleAuthError)
