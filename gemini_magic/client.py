"""Building the one long-lived ``google-genai`` client of a session.

The client is created with no ``api_key`` or ``base_url`` of our own unless offline mode
asks for it, so the SDK's own settings keep working exactly as its documents say:
``GEMINI_API_KEY`` / ``GOOGLE_API_KEY``, ``GOOGLE_GEMINI_BASE_URL``,
``GOOGLE_GENAI_API_VERSION`` and the Vertex AI variables (``GOOGLE_GENAI_USE_VERTEXAI``,
``GOOGLE_CLOUD_PROJECT``, ``GOOGLE_CLOUD_LOCATION``).

Retries are *not* delegated to the SDK: its retry loop ignores ``Retry-After``.  The
request module retries itself (see ``gemini_magic.request``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from gemini_magic.errors import ConfigurationError

if TYPE_CHECKING:
    from google import genai

#: The key a client started for the bundled offline emulator uses; the emulator accepts any.
OFFLINE_API_KEY = "offline-emulator-key"

_TRUE = {"1", "true", "yes", "on"}

NO_KEY_MESSAGE = "No Gemini API key found: GEMINI_API_KEY is not set."
NO_KEY_HINT = (
    "Create a key at https://aistudio.google.com/apikey and set it before starting Jupyter "
    "(export GEMINI_API_KEY=...), or in the notebook with "
    "%env GEMINI_API_KEY=... (the value is not echoed). "
    "To try gemini-magic without a key, run `%gemini offline on`: answers then come from "
    "the bundled offline emulator."
)


def uses_vertex(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the SDK will talk to Vertex AI (``GOOGLE_GENAI_USE_VERTEXAI``)."""
    return environ.get("GOOGLE_GENAI_USE_VERTEXAI", "").strip().lower() in _TRUE


def check_credentials(environ: Mapping[str, str] = os.environ) -> None:
    """Raise a :class:`ConfigurationError` that says what to do when no key is set.

    The SDK's own message for this ("Missing key inputs argument!") names neither the
    variable nor the way out, so we look first.
    """
    if uses_vertex(environ):
        if not (environ.get("GOOGLE_CLOUD_PROJECT") or environ.get("GOOGLE_API_KEY")):
            raise ConfigurationError(
                "GOOGLE_GENAI_USE_VERTEXAI is set but GOOGLE_CLOUD_PROJECT is not.",
                hint="Set GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION, and log in with "
                "`gcloud auth application-default login`.",
            )
        return
    if not (environ.get("GEMINI_API_KEY") or environ.get("GOOGLE_API_KEY")):
        raise ConfigurationError(NO_KEY_MESSAGE, hint=NO_KEY_HINT)


def make_client(*, timeout_s: float, base_url: str | None = None) -> genai.Client:
    """A client for the service (``base_url=None``) or for an emulator at ``base_url``.

    ``timeout_s`` bounds every read: a stalled stream fails after that long with no byte.
    """
    from google import genai
    from google.genai import types

    http_options = types.HttpOptions(timeout=max(1, round(timeout_s * 1000)))
    if base_url is not None:
        http_options.base_url = base_url
        # vertexai=False: the emulator speaks the Gemini API even where the Vertex AI
        # variables are set for other work.
        return genai.Client(vertexai=False, api_key=OFFLINE_API_KEY, http_options=http_options)
    check_credentials()
    try:
        return genai.Client(http_options=http_options)
    except ValueError as exc:  # the SDK's own complaints about inconsistent settings
        raise ConfigurationError(f"Cannot create the Gemini client: {exc}") from None
