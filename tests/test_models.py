"""Models (the default, notes on deprecated ones) and keys (the environment, Colab's Secrets)."""

from __future__ import annotations

import sys
import types

import pytest

from gemini_magic.errors import ConfigurationError, UsageError
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
    assert "gemini-3.1-pro-preview  (preview; thinking low/medium/high, default high)" in text
    assert (
        "gemini-4-neon  (GA 2026-11-18; paid tier; thinking low/medium/high/xhigh, default high)"
        in text
    )
    assert listing(["gemini-3.8-flash", "gemini-9-unknown"]) == [
        "gemini-3.8-flash  (free and paid tiers; thinking low/medium/high, default medium)",
        "gemini-9-unknown",
    ]
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


@pytest.mark.parametrize("api", ["interactions", "generate_content"])
def test_xhigh_goes_to_a_model_that_takes_it_on_both_apis(ix, emulator, api):
    assert run_cell(ix, f"%config GeminiMagics.api = {api!r}").success
    run = run_cell(ix, "%%gemini -m gemini-4-neon --thinking xhigh\nHello.")
    assert run.success, run.error
    [logged] = [e for e in emulator.log if e.method == "POST"]
    if api == "interactions":
        assert logged.body["generation_config"]["thinking_level"] == "xhigh"
    else:
        thinking = logged.body["generationConfig"]["thinkingConfig"]
        assert thinking["thinking_level"] == "XHIGH"


@pytest.mark.parametrize(
    ("model", "level", "takes"),
    [
        ("gemini-4-argon", "xhigh", "low, medium, high"),
        ("gemini-3.8-flash", "minimal", "low, medium, high"),
        ("gemini-4-hydrogen", "minimal", "low, medium, high, xhigh"),
    ],
)
def test_a_level_the_model_does_not_take_is_one_line_and_nothing_is_sent(
    ix, emulator, model, level, takes
):
    run = run_cell(ix, f"%%gemini -m {model} --thinking {level}\nHello.")
    assert isinstance(run.error, UsageError)
    assert str(run.error).splitlines()[0] == (
        f"{model} does not take thinking level {level!r} (it takes {takes}); nothing was sent."
    )
    assert emulator.log == []


def test_the_trait_takes_xhigh_and_an_unknown_model_goes_through(ix, emulator):
    assert run_cell(ix, "%config GeminiMagics.thinking_level = 'xhigh'").success
    run = run_cell(ix, "%%gemini -m gemini-9-future\nHello.")
    assert run.success, run.error
    (request,) = interaction_requests(emulator)
    assert request.body["generation_config"]["thinking_level"] == "xhigh"


def test_models_shows_the_gemini_4_family_with_its_levels(ix, emulator):
    text = run_cell(ix, "%gemini models").all_text()
    both = "free and paid tiers"
    assert (
        f"gemini-4-argon  (GA 2026-10-13; {both}; thinking low/medium/high, default medium)" in text
    )
    assert (
        f"gemini-4-hydrogen  (released 2026-11-12; {both}; "
        "thinking low/medium/high/xhigh, default high)" in text
    )


@pytest.mark.parametrize(
    ("model", "note"),
    [
        ("gemini-4-hydrogen", "Temperature is ignored by the service on gemini-4-hydrogen"),
        ("gemini-3.8-flash", "Temperature is ignored by the service on gemini-3.8-flash"),
        ("gemini-3.1-pro-preview", "Temperature is deprecated on gemini-3.1-pro-preview"),
    ],
)
@pytest.mark.parametrize("api", ["interactions", "generate_content"])
def test_temperature_on_a_model_that_ignores_it_says_so(ix, emulator, model, note, api):
    assert run_cell(ix, f"%config GeminiMagics.api = {api!r}").success
    run = run_cell(ix, f"%%gemini -m {model} -t 0.3\nHello.")
    assert run.success, run.error
    assert note in run.all_text()
    [request] = [e for e in emulator.log if e.method == "POST"]
    config = request.body.get("generation_config") or request.body["generationConfig"]
    assert config["temperature"] == 0.3
