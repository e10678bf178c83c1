"""Building the one long-lived ``google-genai`` client of a session.

The client is created with no ``api_key`` or ``base_url`` of our own unless offline mode
asks for it, so the SDK's own settings keep working exactly as its documents say:
``GEMINI_API_KEY`` / ``GOOGLE_API_KEY``, ``GOOGLE_GEMINI_BASE_URL``,
``GOOGLE_GENAI_API_VERSION`` and the Vertex AI variables (``GOOGLE_GENAI_USE_VERTEXAI``,
``GOOGLE_CLOUD_PROJECT``, ``GOOGLE_CLOUD_LOCATION``).

Inside Google Colab, when no key variable is set, the Colab Secrets ``GEMINI_API_KEY`` /
``GOOGLE_API_KEY`` are used (the key is never printed).

Retries are *not* delegated to the SDK: its generateContent retry loop ignores
``Retry-After`` and its Interactions client would retry silently.  A turn retries itself
(see ``gemini_magic.turn``), with a notice the user sees.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from gemini_magic.api.abort import on_request, on_response
from gemini_magic.api.sdk import genai, types
from gemini_magic.errors import ConfigurationError

_TRUE = {"1", "true", "yes", "on"}
_KEY_ENV_VARS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")

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


def api_in_use(api: str, *, offline: bool, environ: Mapping[str, str] = os.environ) -> str:
    """The API prompts really go through, and why when it is not the one chosen.

    Google documents the Interactions API on Vertex AI (the Gemini Enterprise Agent
    Platform) for projects with a location, which the SDK addresses under
    ``/v1beta1/projects/P/locations/L/interactions``; Vertex AI *express mode* (an API
    key, no project) is reported to answer 404 there, so it uses generateContent.
    """
    express_mode = uses_vertex(environ) and not environ.get("GOOGLE_CLOUD_PROJECT")
    if api == "interactions" and not offline and express_mode:
        return "generate_content"
    return api


def colab_secret() -> str | None:
    """The key from Colab's Secrets panel, when running in Colab and one is stored.

    A secret that exists but is not granted to this notebook is a clear error: the
    user has to switch on its notebook access, and nothing else would say so.
    """
    if "google.colab" not in sys.modules:
        return None
    from google.colab import userdata  # type: ignore[import-not-found]

    for name in _KEY_ENV_VARS:
        try:
            value = userdata.get(name)
        except userdata.SecretNotFoundError:
            continue
        except userdata.NotebookAccessError:
            raise ConfigurationError(
                f"The Colab secret {name} exists, but this notebook has no access to it.",
                hint="Open Colab's Secrets panel (the key icon on the left) and switch on "
                f"'Notebook access' for {name}.",
            ) from None
        if value:
            return str(value)
    return None


def check_credentials(environ: Mapping[str, str] = os.environ) -> str | None:
    """Raise a :class:`ConfigurationError` that says what to do when no key is set.

    The SDK's own message for this ("Missing key inputs argument!") names neither the
    variable nor the way out, so we look first.  Returns a key found outside the
    environment (Colab's Secrets), or None when the SDK finds its own.
    """
    if uses_vertex(environ):
        if not (environ.get("GOOGLE_CLOUD_PROJECT") or environ.get("GOOGLE_API_KEY")):
            raise ConfigurationError(
                "GOOGLE_GENAI_USE_VERTEXAI is set but GOOGLE_CLOUD_PROJECT is not.",
                hint="Set GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION, and log in with "
                "`gcloud auth application-default login`.",
            )
        return
    if any(environ.get(name) for name in _KEY_ENV_VARS):
        return None
    key = colab_secret()
    if key is None:
        raise ConfigurationError(NO_KEY_MESSAGE, hint=NO_KEY_HINT)
    return key


def make_client(
    *, timeout_s: float, base_url: str | None = None, offline_key: str = ""
) -> genai.Client:
    """A client for the service (``base_url=None``) or for an emulator at ``base_url``,
    which answers only its own key, ``offline_key``.

    ``timeout_s`` bounds every read: a stalled stream fails after that long with no byte.
    """
    # attempts=1: the SDK retries nothing (the Interactions client would retry five
    # times by default); the turn retries itself, honouring Retry-After, with notices.
    http_options = types.HttpOptions(
        timeout=max(1, round(timeout_s * 1000)),
        retry_options=types.HttpRetryOptions(attempts=1),
        # Every response opened, in the thread that sent it: a cancelled background turn
        # ends its read at once (see ``api.abort``).
        client_args={"event_hooks": {"request": [on_request], "response": [on_response]}},
    )
    if base_url is not None:
        http_options.base_url = base_url
        # vertexai=False: the emulator speaks the Gemini API even where the Vertex AI
        # variables are set for other work.
        return genai.Client(vertexai=False, api_key=offline_key, http_options=http_options)
    key = check_credentials()
    try:
        if key is not None:
            return genai.Client(api_key=key, http_options=http_options)
        return genai.Client(http_options=http_options)
    except ValueError as exc:  # the SDK's own complaints about inconsistent settings
        raise ConfigurationError(f"Cannot create the Gemini client: {exc}") from None
