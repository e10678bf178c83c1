"""The one boundary where the SDK's and the network's failures become ours.

Both families of SDK errors are mapped here: ``google.genai.errors`` (generateContent,
files, caches, models) and the Interactions client's own classes
(``google.genai._interactions_errors``, which are *not* ``google.genai.errors.APIError``),
as well as the HTTP library's transport errors and google-auth's credential errors.

Every call to the service goes through :func:`service_call`.  What it does not know is
re-raised unchanged and explicitly: an unknown exception is a bug of ours or of the SDK,
and must not be dressed up as a service failure.  The messages never quote an API key
(:func:`gemini_magic.errors.redact` runs on all of them).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gemini_magic.api.abort import Aborted, current
from gemini_magic.api.sdk import errors as sdk_errors
from gemini_magic.api.sdk import interactions_errors as ix
from gemini_magic.errors import (
    ConfigurationError,
    GeminiAPIError,
    GeminiConnectionError,
    GeminiMagicError,
    GeminiTimeoutError,
    redact,
)

#: Statuses worth retrying: the request may succeed a little later.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

#: Statuses with which the service says a named resource (upload, cache, interaction)
#: is gone or was never this key's.
GONE_STATUSES = frozenset({403, 404})

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


@contextmanager
def service_call(timeout_s: float) -> Iterator[None]:
    """Run a call to the service; its failures leave as :class:`GeminiMagicError`.

    ``KeyboardInterrupt`` and our own errors pass through; an exception that is neither
    a service, network nor credentials failure is re-raised as it is.  A failure after
    this thread's send was ended from another thread (``api.abort``) is that abort,
    raised as :class:`~gemini_magic.api.abort.Aborted` (an interrupt).
    """
    try:
        yield
    except GeminiMagicError:
        raise
    except Exception as exc:
        if _aborted():
            raise Aborted from None
        mapped = map_error(exc, timeout_s=timeout_s)
        if mapped is None:
            raise
        mapped.retryable = is_retryable(exc)
        mapped.retry_after = retry_after(exc)
        raise mapped from None
    # A hung-up stream may also read as one that ended: what came is not the answer.
    if _aborted():
        raise Aborted


def _aborted() -> bool:
    abort = current()
    return abort is not None and abort.fired


def map_error(exc: BaseException, *, timeout_s: float) -> GeminiMagicError | None:
    """Our error for a failure of the service, the network or the credentials.

    Returns None for anything else, so the caller re-raises it unchanged.
    """
    if isinstance(exc, GeminiMagicError):
        return exc
    from google.genai import errors

    if isinstance(exc, errors.ContinuationInterruptedError):
        return _interrupted_hops(exc, timeout_s)
    status = status_of(exc)
    if status is not None:
        return _api_error(exc, status)
    if isinstance(exc, sdk_errors.UnknownApiResponseError):
        return GeminiAPIError(
            f"Gemini sent a reply that could not be read: {redact(str(exc))[:300]}",
            hint="This is usually transient; run the cell again.",
        )
    if _is_auth_error(exc):
        return ConfigurationError(
            f"Vertex AI credentials are missing or unusable: {redact(str(exc))[:300]}",
            hint="Run `gcloud auth application-default login` (or set "
            "GOOGLE_APPLICATION_CREDENTIALS), or unset GOOGLE_GENAI_USE_VERTEXAI to use "
            "a Gemini API key.",
        )
    if isinstance(exc, ix.APITimeoutError) or _is_transport(exc, "TimeoutException"):
        return GeminiTimeoutError(
            f"No answer from Gemini within {timeout_s:g} s.",
            hint="Raise the limit with %config GeminiMagics.timeout = <seconds>, or try again.",
        )
    if isinstance(exc, ix.APIConnectionError) or _is_transport(exc, "TransportError"):
        return GeminiConnectionError(
            f"The connection to Gemini failed: {type(exc).__name__}: {redact(str(exc))[:200]}",
            hint="Check the network (and GOOGLE_GEMINI_BASE_URL, if set), then run the cell again.",
        )
    return None


def _interrupted_hops(exc: BaseException, timeout_s: float) -> GeminiAPIError:
    """A continuation hop failed after the answer had made progress (the SDK's
    ``ContinuationInterruptedError``): the answer is incomplete, and not worth retrying
    whole without the user knowing (every hop so far was billed)."""
    cause = exc.__cause__
    mapped = map_error(cause, timeout_s=timeout_s) if cause is not None else None
    why = mapped.message if mapped is not None else redact(str(cause or exc))[:300]
    hops = len(getattr(exc, "continuation_ids", None) or [])
    done = f" after {hops} hop{'s' if hops != 1 else ''}" if hops else ""
    return GeminiAPIError(
        f"The answer went past the decode limit and its continuation failed{done}: {why}",
        # No status: nothing may repair or retry it (a repair would send the turn again).
        service_message=getattr(mapped, "service_message", None),
        hint="Nothing was added to the conversation (each hop so far was billed); run the "
        "cell again, or ask for a shorter answer.",
    )


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of an SDK error of either family (None for anything else)."""
    if isinstance(exc, sdk_errors.APIError):
        return exc.code if isinstance(exc.code, int) else 0
    if isinstance(exc, ix.APIStatusError):
        return int(exc.status_code)
    return None


def is_retryable(exc: BaseException) -> bool:
    """Whether trying the same call again a little later may succeed."""
    status = status_of(exc)
    if status is not None:
        return status in RETRY_STATUSES
    if isinstance(exc, ix.APIConnectionError):
        return not isinstance(exc, ix.APITimeoutError)
    return any(
        _is_transport(exc, name)
        for name in ("ConnectError", "ConnectTimeout", "RemoteProtocolError")
    )


def retry_after(exc: BaseException) -> float | None:
    """How long the service asked us to wait, if it said so.

    The Gemini API puts it in the error body (``google.rpc.RetryInfo``, ``"retryDelay":
    "37s"``); HTTP servers and proxies use the ``Retry-After`` header (seconds or an HTTP
    date).  A value that cannot be read is ignored: the back-off applies instead.
    """
    delay = _retry_info_delay(getattr(exc, "details", None) or getattr(exc, "body", None))
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
    # Here, not at the top: %load_ext imports this module, and an HTTP date is rare.
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, as RFC 5322 means it
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - time.time())


def _api_error(exc: BaseException, code: int) -> GeminiAPIError:
    status, message = _status_and_message(exc)
    hint = _HINTS.get(code)
    if code >= 500:
        hint = "The service had a problem; it was retried. Try again in a moment."
    if code == 400 and message and "API key" in message:
        hint = _HINTS[403]
    words = " ".join(str(w) for w in (code or None, status) if w)
    return GeminiAPIError(
        f"Gemini answered {words}: {message}",
        code=code or None,
        status=status,
        service_message=message,
        hint=hint,
    )


def _status_and_message(exc: BaseException) -> tuple[str | None, str]:
    """The service's status word and message, from either SDK family's error."""
    if isinstance(exc, sdk_errors.APIError):
        status = exc.status if isinstance(exc.status, str) else None
        message = exc.message if isinstance(exc.message, str) else str(exc.details)[:300]
        return status, message
    body = getattr(exc, "body", None)
    error = body.get("error", body) if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("status") or error.get("code")
        status = code if isinstance(code, str) else None
        return status, str(error.get("message") or "")[:300]
    return None, redact(str(getattr(exc, "message", exc)))[:300]


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


def _is_transport(exc: BaseException, name: str) -> bool:
    """Whether ``exc`` is the HTTP library's ``name`` error (httpx2 or httpx, which the
    Interactions client may use)."""
    import httpx2

    classes = [getattr(httpx2, name)]
    try:
        import httpx
    except ImportError:
        pass
    else:
        classes.append(getattr(httpx, name))
    return isinstance(exc, tuple(classes))


def _is_auth_error(exc: BaseException) -> bool:
    """Whether google-auth failed to find or refresh Vertex AI credentials."""
    try:
        from google.auth.exceptions import GoogleAuthError
    except ImportError:  # google-auth comes with the SDK; be safe all the same
        return False
    return isinstance(exc, GoogleAuthError)
