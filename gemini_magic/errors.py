"""The one exception family of gemini_magic.

Every failure a user can meet in a ``%%gemini`` cell is a :class:`GeminiMagicError`.
They are *raised*, never printed and swallowed, so a notebook run (nbval, nbconvert,
papermill) fails when a prompt fails.  IPython calls ``_render_traceback_`` and shows
its lines instead of a long traceback through the SDK and httpx.

No message built here may contain the API key: :func:`redact` is applied to every
message that quotes text coming from the SDK or the service.
"""

from __future__ import annotations

import os
import re

from IPython.core.error import UsageError as _IPythonUsageError

_KEY_ENV_VARS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
_KEY_PATTERN = re.compile(r"AIza[0-9A-Za-z_\-]{20,}")


def redact(text: str, extra_secrets: tuple[str, ...] = ()) -> str:
    """Remove anything that looks like an API key from ``text``.

    The keys in the environment are removed verbatim, and so is anything shaped like
    a Google API key, so that a message quoting a URL or a header can never leak one.
    """
    secrets = [os.environ.get(name, "") for name in _KEY_ENV_VARS]
    secrets.extend(extra_secrets)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_PATTERN.sub("***", text)


class GeminiMagicError(Exception):
    """Base of every error gemini_magic raises.

    ``hint`` is an optional second line telling the user what to do about it.
    ``retryable`` and ``retry_after`` say whether the same call may succeed later, and
    when the service asked to be tried again (set where SDK failures are mapped).
    """

    retryable: bool = False
    retry_after: float | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = redact(message)
        self.hint = redact(hint) if hint else None
        super().__init__(self.message if not self.hint else f"{self.message}\n{self.hint}")

    def _render_traceback_(self) -> list[str]:
        """Short form IPython shows in place of a traceback."""
        lines = [f"{type(self).__name__}: {self.message}"]
        if self.hint:
            lines.append(f"Hint: {self.hint}")
        return lines


class UsageError(GeminiMagicError, _IPythonUsageError):
    """The cell or line could not be understood: bad option, empty prompt, bad braces.

    Also an IPython ``UsageError``, so code that catches IPython's (the kernel's magic
    machinery, user code) still does; there is one class with this role, not two.
    """


class ReferenceNotFound(UsageError):
    """A ``{name}`` in the prompt names no variable of the user's namespace."""


class AttachmentError(UsageError):
    """A referenced object cannot be attached (too large, unsupported, unserialisable)."""


class FileAttachmentError(AttachmentError):
    """A file named by a ``Path`` or ``-f`` cannot be attached.

    Missing, a folder, unreadable, empty, of a type the API does not take, over the
    per-file cap, or text that is not UTF-8: the message names which, and the path.
    """


class ConfigurationError(GeminiMagicError):
    """No API key, inconsistent settings, an emulator that cannot start."""


class HistoryError(GeminiMagicError):
    """A conversation file that is corrupt, foreign or unwritable."""


class GeminiAPIError(GeminiMagicError):
    """The service answered with an error status (or an error event mid-stream).

    ``code`` is the HTTP status, ``status`` the service's status word
    (``RESOURCE_EXHAUSTED``, ...), ``service_message`` the service's own message.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: str | None = None,
        service_message: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.code = code
        self.status = status
        self.service_message = redact(service_message) if service_message else None
        super().__init__(message, hint)


class GeminiTimeoutError(GeminiMagicError):
    """No byte arrived from the service within the configured timeout."""


class GeminiConnectionError(GeminiMagicError):
    """The connection failed or dropped before the answer was complete."""


class CodeFailed(GeminiMagicError):
    """The rebound code raised; its own traceback has been shown already.

    ``error`` is the exception the code raised; ``defined`` the variables it had defined
    or rebound before it failed (they stay in the namespace, as after a failing cell).
    """

    def __init__(self, error: BaseException, defined: list[str]) -> None:
        self.error = error
        self.defined = defined
        kept = f" Defined before the error: {', '.join(defined)}." if defined else ""
        super().__init__(
            f"The answer's code raised {type(error).__name__} (its traceback is above).{kept}",
            hint="The code ran on your live objects, not the sandbox's files: a column or "
            "type the sample did not show can differ.",
        )
