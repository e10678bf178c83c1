"""The composition root (``gemini_magic.session``): the client it makes, offline or not."""

from __future__ import annotations

from tests.helpers.magic import run_cell


def test_offline_mode_works_where_vertex_ai_is_configured(any_api, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL", raising=False)
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "some-project")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "us-central1")
    try:
        assert run_cell(any_api, "%gemini offline on").success
        run = run_cell(any_api, "%%gemini\nhello")
        assert run.success, run.error
        assert "offline emulator" in run.all_text()
    finally:
        run_cell(any_api, "%gemini offline off")
