"""``%%gemini`` end to end in an in-process IPython shell, against the emulator."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time

import pandas as pd
import pytest

from gemini_magic.errors import ConfigurationError, GeminiAPIError, ReferenceNotFound
from tests.helpers.magic import decode_png, png_size, run_cell
from tests.helpers.wire import (
    conversation_prompts,
    generate_requests,
    interaction_requests,
    media,
    prompt_requests,
    prompt_texts,
)

SALES = pd.DataFrame(
    {
        "region": ["North", "South", "East", "West", "North", "South"],
        "month": ["2024-01", "2024-01", "2024-01", "2024-01", "2024-02", "2024-02"],
        "revenue": [120.5, 98.25, 143.0, 87.75, 131.0, 101.5],
    }
)


# --- 1. loading -------------------------------------------------------------------


def test_load_ext_registers_magics_without_importing_the_sdk():
    """What %load_ext does in the kernel's thread imports neither the SDK nor pandas: the
    warm-up thread it starts does (tests/test_warmup.py)."""
    code = (
        "import sys\n"
        "from IPython.testing.globalipapp import start_ipython\n"
        "from gemini_magic.magics import GeminiMagics\n"
        "ip = start_ipython()\n"
        "ip.register_magics(GeminiMagics(shell=ip))  # load_ext, but for the warm-up\n"
        "magics = ip.magics_manager.magics\n"
        "print('gemini' in magics['cell'])\n"
        "print('gemini' in magics['line'])\n"
        "print('google.genai' in sys.modules, 'pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "False", "False"]


# --- 2. client ----------------------------------------------------------------------


def test_no_key_is_a_clear_error_and_nothing_is_sent(any_api, emulator, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY")
    run = run_cell(any_api, "%%gemini\nWhat is 2 + 2?")
    assert isinstance(run.error, ConfigurationError)
    assert "GEMINI_API_KEY" in str(run.error)
    assert "%gemini offline on" in str(run.error)
    assert emulator.log == []


def test_offline_switch_answers_from_the_bundled_emulator_without_a_key(any_api, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL", raising=False)
    any_api.user_ns["sales"] = SALES
    try:
        switched = run_cell(any_api, "%gemini offline on")
        assert switched.success, switched.error
        assert "Offline" in switched.stdout
        run = run_cell(any_api, "%%gemini\nWhat is the mean revenue in {sales}?")
        assert run.success, run.error
        assert "offline emulator" in run.all_text()
        assert str(round(SALES["revenue"].mean(), 4)) in run.all_text()
    finally:
        run_cell(any_api, "%gemini offline off")


def test_offline_on_and_off_set_the_setting_config_shows(ip):
    try:
        assert run_cell(ip, "%gemini offline on").success
        assert ip.run_line_magic("config", "GeminiMagics.offline") is True
        assert run_cell(ip, "%gemini offline").stdout == "Offline mode is on.\n"
        assert run_cell(ip, "%config GeminiMagics.offline = False").success
        assert run_cell(ip, "%gemini offline").stdout == "Offline mode is off.\n"
        assert run_cell(ip, "%gemini offline on").success
        assert run_cell(ip, "%gemini offline off").success
        assert ip.run_line_magic("config", "GeminiMagics.offline") is False
        magics = ip.magics_manager.registry["GeminiMagics"]
        assert not magics.session.connection.offline  # the setter's change reconnected
    finally:
        run_cell(ip, "%gemini offline off")


def test_a_command_can_set_only_a_setting(ip):
    magics = ip.magics_manager.registry["GeminiMagics"]
    with pytest.raises(ValueError, match="'modle' is not a setting"):
        magics.command_context().set_option("modle", "gemini-3.5-flash")
    assert not hasattr(magics, "modle")


# --- 3. options ---------------------------------------------------------------------


def test_unknown_option_is_an_error_and_nothing_is_sent(any_api, emulator):
    run = run_cell(any_api, "%%gemini --bogus\nhello")
    assert not run.success
    assert "unrecognized arguments: --bogus" in str(run.error)
    assert emulator.log == []


@pytest.mark.parametrize(
    "line, words",
    [
        ("-t hot", "invalid float value"),
        ("-t 3", "between 0 and 2"),
        ("--sample 0", "positive number"),
        ("-o 1abc", "variable name"),
    ],
)
def test_bad_option_values_are_errors(any_api, emulator, line, words):
    run = run_cell(any_api, f"%%gemini {line}\nhello")
    assert not run.success
    assert words in str(run.error)
    assert emulator.log == []


def test_options_reach_the_request(ip, emulator):
    run = run_cell(
        ip, '%%gemini -m gemini-test-model -t 0.3 -s "Answer tersely." --no-stream\nSay hello.'
    )
    assert run.success, run.error
    (request,) = generate_requests(emulator)
    assert request.path.endswith("models/gemini-test-model:generateContent")
    body = request.body
    assert body["generationConfig"]["temperature"] == 0.3
    assert body["systemInstruction"]["parts"][0]["text"] == "Answer tersely."
    assert body["tools"] == [{"codeExecution": {}}]


def test_traits_are_the_defaults_and_config_sets_them(ip, emulator):
    run_cell(ip, "%config GeminiMagics.model = 'gemini-configured'")
    run_cell(ip, "%config GeminiMagics.stream = False")
    run = run_cell(ip, "%%gemini\nSay hello.")
    assert run.success, run.error
    (request,) = generate_requests(emulator)
    assert request.path.endswith("models/gemini-configured:generateContent")


def test_streaming_uses_sse(ip, emulator):
    run = run_cell(ip, "%%gemini\nSay hello.")
    assert run.success, run.error
    (request,) = generate_requests(emulator)
    assert request.path.endswith(":streamGenerateContent")
    assert request.query.get("alt") in ("sse", ["sse"])


def test_output_variable_and_last_answer(any_api, emulator):
    any_api.user_ns["sales"] = SALES
    run = run_cell(any_api, "%%gemini -o answer\nPlot {sales} and give the mean revenue.")
    assert run.success, run.error
    answer = any_api.user_ns["answer"]
    assert any_api.user_ns["_gemini"] is answer
    assert answer.code and "read_csv" in answer.code[0]
    assert answer.results and answer.results[0].outcome == "OUTCOME_OK"
    assert str(round(SALES["revenue"].mean(), 4)) in answer.text
    assert answer.images
    assert png_size(answer.images[0].data)[0] > 100
    assert answer.offline
    assert answer.usage.total_token_count > 0
    bundle = answer._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "text/plain" in data


def test_code_cell_option_puts_the_code_below(any_api, emulator):
    any_api.user_ns["sales"] = SALES
    any_api.rl_next_input = None
    run = run_cell(any_api, "%%gemini -x\nWhat is the total revenue in {sales}?")
    assert run.success, run.error
    # The code as it runs here: the read of the attached file is bound to the frame.
    assert any_api.rl_next_input.startswith("# gemini-magic: input_file_0.csv -> sales (the whole")
    assert "read_csv" not in any_api.rl_next_input


# --- 4. references ------------------------------------------------------------------


def test_dataframe_is_attached_as_csv_equal_to_the_frame(any_api, emulator):
    frame = pd.DataFrame(
        {
            "naïve name": ["a, b", 'say "hi"', "two\nlines", None],
            "value": [1.5, float("nan"), 3.25, -4.0],
        }
    )
    any_api.user_ns["tricky"] = frame
    run = run_cell(any_api, "%%gemini\nDescribe {tricky}.")
    assert run.success, run.error
    (request,) = prompt_requests(emulator)
    ((mime, csv),) = media(request)
    assert mime == "text/csv"
    back = pd.read_csv(io.BytesIO(csv))
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    sent = prompt_texts(request)
    assert sent[-1] == "Describe tricky.csv."  # the placeholder became the file's name
    assert any("tricky.csv" in t and "`tricky`" in t for t in sent[:-1])  # which file is which
    assert "Sent: tricky.csv (4 rows × 2 columns" in run.all_text()


def test_unknown_reference_is_an_error_naming_it_and_nothing_is_sent(any_api, emulator):
    any_api.user_ns["sales"] = SALES
    run = run_cell(any_api, "%%gemini\nSummarise {slaes}.")
    assert isinstance(run.error, ReferenceNotFound)
    assert "slaes" in str(run.error)
    assert emulator.log == []


def test_frame_named_without_braces_gets_a_hint_and_is_not_sent(any_api, emulator):
    any_api.user_ns["sales"] = SALES
    run = run_cell(any_api, "%%gemini\nWhat is in sales?")
    assert run.success, run.error
    (hint,) = [t for t in run.texts() if "{sales}" in t]
    assert "write `{sales}` to attach it" in hint
    (request,) = prompt_requests(emulator)
    assert media(request) == []
    assert "Region" not in json.dumps(request.body)


def test_large_frame_is_refused_and_sample_sends_a_told_sample(any_api, emulator):
    big = pd.DataFrame({"x": range(50_000), "y": [f"row {i}" for i in range(50_000)]})
    any_api.user_ns["big"] = big
    run_cell(any_api, "%config GeminiMagics.max_attachment_bytes = 100000")
    refused = run_cell(any_api, "%%gemini\nSummarise {big}.")
    assert not refused.success
    assert "--sample" in str(refused.error)
    assert emulator.log == []
    sampled = run_cell(any_api, "%%gemini --sample 100\nSummarise {big}.")
    assert sampled.success, sampled.error
    (request,) = prompt_requests(emulator)
    ((mime, csv),) = media(request)
    assert mime == "text/csv"
    assert len(pd.read_csv(io.BytesIO(csv))) == 100
    assert any("sample" in t.lower() and "50,000" in t for t in prompt_texts(request))


def test_other_objects_are_written_as_text(any_api, emulator):
    any_api.user_ns["threshold"] = 42.5
    run = run_cell(any_api, "%%gemini\nIs {threshold} a lot? Use {{braces}} literally.")
    assert run.success, run.error
    (request,) = prompt_requests(emulator)
    assert "Is 42.5 a lot? Use {braces} literally." in prompt_texts(request)


# --- 5. streaming display -----------------------------------------------------------


def test_answer_shows_markdown_code_output_png_and_usage_line(any_api, emulator):
    any_api.user_ns["sales"] = SALES
    run = run_cell(any_api, "%%gemini\nPlot {sales} and give the mean revenue.")
    assert run.success, run.error
    markdown = "\n".join(run.texts("text/markdown"))
    assert "```python" in markdown and "read_csv" in markdown
    assert str(round(SALES["revenue"].mean(), 4)) in run.all_text()
    (image,) = run.images()
    width, height = png_size(image)
    assert width > 100 and height > 100
    assert decode_png(image).shape[:2] == (height, width)
    footer = run.outputs[-1]["text/plain"]
    assert "offline emulator" in footer and "token" in footer
    assert any("latency" in json.dumps(md) for md in run.metadata)
    assert all("text/plain" in output for output in run.outputs)


def test_failed_execution_is_marked(any_api, emulator_with_replies):
    emulator = emulator_with_replies(
        [{"match": "divide", "parts": [{"code": "print(1 / 0)"}, {"text": "That failed."}]}]
    )
    run = run_cell(any_api, "%%gemini\nPlease divide by zero.")
    assert run.success, run.error
    text = run.all_text()
    assert "ZeroDivisionError" in text
    # The scripted text itself says "failed": the outcome must be marked apart from it.
    assert "OUTCOME_FAILED" in text
    assert prompt_requests(emulator)


def test_first_text_is_shown_before_the_stream_ends(any_api, emulator):
    """The first text is displayed while the emulator still waits to send the rest."""
    from IPython.utils.capture import capture_output

    emulator.delay = 0.4
    shown_at: list[float] = []
    with capture_output():
        publisher = any_api.display_pub
        original = publisher.publish

        def timed_publish(data, *args, **kwargs):
            if "text/markdown" in data and not shown_at:
                shown_at.append(time.monotonic())
            return original(data, *args, **kwargs)

        publisher.publish = timed_publish
        result = any_api.run_cell("%%gemini\nTell me about streaming in a few sentences please.")
    ended = time.monotonic()
    assert result.success, result.error_in_exec
    assert shown_at, "no Markdown was displayed"
    # The emulator sleeps 0.4 s between events: a display that waited for the whole
    # reply could not come a full interval before the cell ended.
    assert ended - shown_at[0] >= 0.4


# --- 6. conversation ----------------------------------------------------------------


def test_second_prompt_carries_the_first_turn_with_its_code_parts(ip, emulator):
    ip.user_ns["sales"] = SALES
    assert run_cell(ip, "%%gemini\nWhat is the mean revenue in {sales}?").success
    first = ip.user_ns["_gemini"]
    assert run_cell(ip, "%%gemini\nAnd the total?").success
    _first, second = generate_requests(emulator)
    contents = second.body["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    model_parts = contents[1]["parts"]
    # The streamed chunks go back as one part per run, in the order they were answered:
    # the text before the code, the code, its result, the text after.
    kinds = ("text", "executableCode", "codeExecutionResult")
    assert [kind for part in model_parts for kind in kinds if kind in part] == [
        "text",
        "executableCode",
        "codeExecutionResult",
        "text",
    ]
    before, code, result, after = model_parts
    assert code["executableCode"]["code"] == first.code[0]
    assert result["codeExecutionResult"]["output"] == first.results[0].output
    assert f"{before['text'].strip()}\n\n{after['text'].strip()}" == first.text


def test_a_failed_turn_leaves_no_trace_and_the_next_prompt_works(any_api, emulator):
    assert run_cell(any_api, "%%gemini\nSay hello.").success
    emulator.inject("status", code=400, count=1)
    failed = run_cell(any_api, "%%gemini\nThis one fails.")
    assert isinstance(failed.error, GeminiAPIError)
    emulator.inject("stream_error", count=1)
    broken = run_cell(any_api, "%%gemini\nThis one breaks mid-stream, with a long answer to split.")
    assert not broken.success
    ok = run_cell(any_api, "%%gemini\nSay goodbye.")
    assert ok.success, ok.error
    assert conversation_prompts(emulator) == ["Say hello.", "Say goodbye."]


def test_rerunning_a_cell_replaces_its_exchange(any_api, emulator):
    assert run_cell(any_api, "%%gemini\nFirst question.", cell_id="cell-a").success
    assert run_cell(any_api, "%%gemini\nSecond question.", cell_id="cell-b").success
    assert run_cell(any_api, "%%gemini\nSecond question, reworded.", cell_id="cell-b").success
    assert run_cell(any_api, "%%gemini\nThird question.", cell_id="cell-c").success
    assert conversation_prompts(emulator, 2) == ["First question.", "Second question, reworded."]
    assert conversation_prompts(emulator) == [
        "First question.",
        "Second question, reworded.",
        "Third question.",
    ]


def test_named_conversations_and_new(any_api, emulator):
    assert run_cell(any_api, "%%gemini\nDefault one.").success
    assert run_cell(any_api, "%%gemini -c side\nSide one.").success
    assert run_cell(any_api, "%%gemini -c side\nSide two.").success
    assert run_cell(any_api, "%%gemini --new\nFresh start.").success
    assert conversation_prompts(emulator, 2) == ["Side one.", "Side two."]
    assert conversation_prompts(emulator, 3) == ["Fresh start."]


def test_reset_history_save_load_export(any_api, emulator, tmp_path):
    any_api.user_ns["sales"] = SALES
    assert run_cell(any_api, "%%gemini\nPlot {sales} and give the mean revenue.").success
    history = run_cell(any_api, "%gemini history")
    assert "Plot {sales} and give the mean revenue." in history.all_text()
    assert "```python" in history.all_text()
    saved = tmp_path / "conv.json"
    assert run_cell(any_api, f"%gemini save {saved}").success
    first = saved.read_bytes()
    assert run_cell(any_api, "%gemini reset").success
    assert any_api.user_ns  # the shell lives on
    assert run_cell(any_api, f"%gemini load {saved}").success
    again = tmp_path / "again.json"
    assert run_cell(any_api, f"%gemini save {again}").success
    assert again.read_bytes() == first
    exported = tmp_path / "conv.md"
    assert run_cell(any_api, f"%gemini export {exported}").success
    assert "## 1. You" in exported.read_text()
    assert run_cell(any_api, "%gemini reset").success
    assert run_cell(any_api, "%%gemini\nAfter reset.").success
    assert conversation_prompts(emulator) == ["After reset."]


def test_loading_a_foreign_file_is_a_clear_error(ix, tmp_path):
    foreign = tmp_path / "notes.json"
    foreign.write_text(json.dumps({"hello": "world"}))
    run = run_cell(ix, f"%gemini load {foreign}")
    assert not run.success
    assert "not a gemini-magic conversation file" in str(run.error)


def test_unknown_line_command_is_an_error(ix):
    run = run_cell(ix, "%gemini frobnicate")
    assert not run.success
    assert "frobnicate" in str(run.error)


# --- 8. errors ----------------------------------------------------------------------


def test_unknown_model_error_has_status_message_and_hint(any_api, emulator):
    emulator.inject("status", code=404, count=1)
    run = run_cell(any_api, "%%gemini\nhello")
    error = run.error
    assert isinstance(error, GeminiAPIError)
    assert error.code == 404
    assert "%gemini models" in str(error)
    lines = error._render_traceback_()
    assert len(lines) <= 3


def test_retry_after_is_honoured_then_the_answer_arrives(any_api, emulator):
    emulator.inject("status", code=429, retry_after=1, count=1)
    run_cell(any_api, "%config GeminiMagics.retry_initial_delay = 0.01")
    started = time.monotonic()
    run = run_cell(any_api, "%%gemini\nhello")
    assert run.success, run.error
    assert time.monotonic() - started >= 1.0
    assert "Retrying in 1.0 s" in run.all_text()
    assert len(prompt_requests(emulator)) == 2


def test_server_errors_are_retried_a_bounded_number_of_times(any_api, emulator):
    run_cell(any_api, "%config GeminiMagics.retry_initial_delay = 0.01")
    run_cell(any_api, "%config GeminiMagics.max_retries = 2")
    emulator.inject("status", code=503, count=10)
    run = run_cell(any_api, "%%gemini\nhello")
    assert isinstance(run.error, GeminiAPIError)
    assert run.error.code == 503
    assert len(prompt_requests(emulator)) == 3


def test_the_key_never_appears_in_errors(any_api, emulator, monkeypatch):
    secret = "AIza" + "SyTEST-not-a-real-key-000000000000"  # no key-shaped literal in the tree
    monkeypatch.setenv("GEMINI_API_KEY", emulator.add_key(secret))
    emulator.inject("status", code=403, count=1)
    run = run_cell(any_api, "%%gemini\nhello")
    assert isinstance(run.error, GeminiAPIError)
    assert secret not in str(run.error) and secret not in run.all_text()


# --- 9. settings --------------------------------------------------------------------


def test_status_shows_model_conversations_and_usage(any_api, emulator):
    assert run_cell(any_api, "%%gemini\nhello").success
    run = run_cell(any_api, "%gemini")
    text = run.all_text()
    assert "gemini-3.8-flash" in text
    assert "default (1 turn)" in text
    assert "tokens so far" in text


def test_environment_points_the_client(any_api, emulator):
    assert os.environ["GOOGLE_GEMINI_BASE_URL"] == emulator.url
    assert run_cell(any_api, "%%gemini\nhello").success
    assert prompt_requests(emulator)


def test_ipython_config_sets_the_traits_before_the_first_prompt(ip, emulator, tmp_path):
    """``c.GeminiMagics.*`` in ipython_config.py reaches a freshly loaded extension."""
    from traitlets.config import Config

    from gemini_magic.magics import GeminiMagics

    ip.config.GeminiMagics = Config(
        {"model": "gemini-from-config", "stream": False, "history_file": str(tmp_path / "h.json")}
    )
    magics = GeminiMagics(shell=ip)
    ip.register_magics(magics)
    try:
        assert run_cell(ip, "%%gemini\nhello").success
        (request,) = interaction_requests(emulator)
        assert request.body["model"] == "gemini-from-config"
        assert "stream" not in request.body  # stream = False from the config
        assert (tmp_path / "h.json").exists()
    finally:
        magics.close()


def test_moving_the_history_file_saves_the_conversation_there(any_api, emulator, tmp_path):
    assert run_cell(any_api, "%%gemini\nhello").success
    target = tmp_path / "moved.gemini-history.json"
    assert run_cell(any_api, f"%config GeminiMagics.history_file = '{target}'").success
    assert "hello" in target.read_text()


def test_models_lists_what_the_service_offers(ix, emulator):
    run = run_cell(ix, "%gemini models")
    assert run.success, run.error
    assert "gemini-2.5-flash" in run.all_text()


def test_the_widget_panel_edits_the_same_settings(ip, emulator):
    from gemini_magic.command.panel import build_panel

    magics = ip.magics_manager.registry["GeminiMagics"]
    assert run_cell(ip, "%%gemini\nhello").success
    panel = build_panel(magics.command_context())
    (model, temperature), (new, message) = (box.children for box in panel.children)
    model.value = "gemini-3.5-flash"
    temperature.value = 0.4
    assert (magics.model, magics.temperature) == ("gemini-3.5-flash", 0.4)
    new.click()
    assert magics.session.store.is_empty()
    assert "reset" in message.value
    assert run_cell(ip, "%%gemini\nhello again").success
    (_, second) = generate_requests(emulator)
    assert second.path.endswith("models/gemini-3.5-flash:streamGenerateContent")
    assert second.body["generationConfig"]["temperature"] == 0.4
    assert len(second.body["contents"]) == 1


def test_terminal_ipython_shows_the_settings_as_text_only(ix):
    run = run_cell(ix, "%gemini")
    assert run.success, run.error
    assert not any("application/vnd.jupyter.widget-view+json" in o for o in run.outputs)
    assert "gemini-magic settings" in run.outputs[-1]["text/plain"]


def test_vertex_ai_without_a_project_is_a_clear_error(any_api, emulator, monkeypatch):
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    run = run_cell(any_api, "%%gemini\nhello")
    assert isinstance(run.error, ConfigurationError)
    assert "GOOGLE_CLOUD_PROJECT" in str(run.error)
    assert emulator.log == []


def test_vertex_ai_without_credentials_is_a_clear_error(any_api, emulator, monkeypatch, tmp_path):
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "my-project")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "us-central1")
    # A credentials file that does not exist fails at once, without any network lookup.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.delenv("GEMINI_API_KEY")  # with a key the SDK uses Vertex AI express mode
    monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL")  # a base URL would also apply to Vertex
    run = run_cell(any_api, "%%gemini\nhello")
    assert isinstance(run.error, ConfigurationError)
    assert "gcloud auth application-default login" in str(run.error)
    assert len(run.error._render_traceback_()) <= 2


def test_an_unclosed_quote_in_a_line_command_is_a_usage_error(ix):
    run = run_cell(ix, '%gemini save "conversation.json')
    assert not run.success
    assert "Cannot read %gemini" in str(run.error)
