"""Models (the default, notes on deprecated ones) and keys (the environment, Colab's Secrets)."""

from __future__ import annotations

import sys
import types

import pytest

from gemini_magic.errors import ConfigurationError
from gemini_magic.models import DEFAULT_MODEL, answered_by_note, listing, status
from tests.helpers.magic import run_cell
from tests.helpers.wire import interaction_requests


def test_a_reply_from_another_model_is_named_in_one_line(ix, emulator):
    emulator.inject("answer_as", model="gemini-3.5-flash-lite")
    run = run_cell(ix, "%%gemini\nHello.")
    assert run.success, run.error
    (note,) = [t for t in run.texts() if "was answered by" in t]
    assert note == f"{DEFAULT_MODEL} was answered by gemini-3.5-flash-lite."


def test_a_retired_model_is_named_with_its_status():
    note = answered_by_note("gemini-2.5-flash", "gemini-3.5-flash-lite")
    assert note == (
        "gemini-2.5-flash was answered by gemini-3.5-flash-lite "
        "(gemini-2.5-flash: deprecated: shut down 2026-12-01)."
    )
    assert answered_by_note("gemini-3.8-flash", "gemini-3.8-flash-001") is None


def test_models_marks_previews_and_deprecated_ones(ix, emulator):
    run = run_cell(ix, "%gemini models")
    assert run.success, run.error
    text = run.all_text()
    assert DEFAULT_MODEL in text
    assert "gemini-2.5-flash  (deprecated: shut down 2026-12-01)" in text
    assert "gemini-3.1-pro-preview  (preview)" in text
    assert listing(["gemini-3.8-flash"]) == ["gemini-3.8-flash"]
    assert status("models/gemini-9-exp") == "preview"


class _Userdata(types.ModuleType):
    """Colab's ``google.colab.userdata``: what its get() raises is its API."""

    class SecretNotFoundError(Exception):
        pass

    class NotebookAccessError(Exception):
        pass

    def __init__(self, secrets: dict[str, object]) -> None:
        super().__init__("google.colab.userdata")
        self.secrets = secrets

    def get(self, name: str) -> str:
        value = self.secrets.get(name)
        if value is None:
            raise self.SecretNotFoundError(name)
        if value is PermissionError:
            raise self.NotebookAccessError(name)
        return str(value)


@pytest.fixture
def colab(monkeypatch):
    """Python as it is inside Colab: ``google.colab`` importable, no key variable set."""
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)

    def with_secrets(secrets: dict[str, object]) -> None:
        package = types.ModuleType("google.colab")
        package.userdata = _Userdata(secrets)
        monkeypatch.setitem(sys.modules, "google.colab", package)
        monkeypatch.setitem(sys.modules, "google.colab.userdata", package.userdata)

    return with_secrets


def test_in_colab_the_secret_is_the_key_and_is_never_shown(ix, emulator, colab):
    secret = emulator.add_key("colab-" + "secret-value-123")
    colab({"GEMINI_API_KEY": secret})
    run = run_cell(ix, "%%gemini\nHello.")
    assert run.success, run.error
    (request,) = interaction_requests(emulator)
    # No key variable is set: only the Colab secret can have authorised this request.
    assert request.headers["x-goog-api-key"] == "***"  # and the log masks it
    assert secret not in run.all_text()


def test_a_colab_secret_without_notebook_access_is_a_clear_error(ix, emulator, colab):
    colab({"GEMINI_API_KEY": PermissionError})
    run = run_cell(ix, "%%gemini\nHello.")
    assert isinstance(run.error, ConfigurationError)
    assert "Notebook access" in str(run.error)
    assert emulator.log == []
