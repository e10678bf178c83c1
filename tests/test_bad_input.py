"""The bad-input table: what a user can type or reference wrongly, through %%gemini.

Every case either fails with an error that names the problem and sends nothing (the
emulator's request log stays empty), or is sent with a clear outcome the test checks
(the CSV the model gets reads back as the frame the user has).  Every case runs on both
APIs (``any_api``): bad input is refused before either is reached.  docs/reliability.md
lists the table.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gemini_magic.errors import (
    AttachmentError,
    ConfigurationError,
    GeminiMagicError,
    HistoryError,
    ReferenceNotFound,
    UsageError,
)
from tests.helpers.magic import run_cell
from tests.helpers.wire import media, prompt_requests


def sent_nothing(emulator) -> bool:
    """No request of any kind reached the emulator (no prompt, no upload)."""
    return emulator.log == []


def inline_csv(emulator) -> pd.DataFrame:
    """The one CSV attachment of the one prompt sent, read back with pandas."""
    (request,) = prompt_requests(emulator)
    ((mime, data),) = media(request)
    assert mime == "text/csv"
    return pd.read_csv(io.BytesIO(data))


def fails_and_sends_nothing(any_api, emulator, cell: str, error_type: type, *words: str):
    run = run_cell(any_api, cell)
    assert not run.success, "the cell should have failed"
    assert isinstance(run.error, error_type), repr(run.error)
    for word in words:
        assert word in str(run.error), f"{word!r} not in {run.error}"
    assert sent_nothing(emulator), [r.path for r in emulator.log]
    return run


# --- the prompt and its references ----------------------------------------------------


def test_unknown_reference_names_it_with_a_suggestion(any_api, emulator):
    any_api.user_ns["sales"] = pd.DataFrame({"x": [1]})
    run = fails_and_sends_nothing(
        any_api, emulator, "%%gemini\nSum {slaes}.", ReferenceNotFound, "slaes"
    )
    assert "sales" in run.error.hint


def test_unknown_attribute_in_a_dotted_reference(any_api, emulator):
    any_api.user_ns["obj"] = {"a": 1}
    fails_and_sends_nothing(
        any_api,
        emulator,
        "%%gemini\nLook at {obj.nope}.",
        ReferenceNotFound,
        "nope",
        "nothing was sent",
    )


def test_empty_prompt(any_api, emulator):
    # IPython itself refuses a cell magic with no body, before the magic runs.
    run = run_cell(any_api, "%%gemini\n")
    assert not run.success
    assert "cell body is empty" in str(run.error)
    assert sent_nothing(emulator)


def test_prompt_of_only_whitespace(any_api, emulator):
    fails_and_sends_nothing(any_api, emulator, "%%gemini\n   \n\t  \n", GeminiMagicError, "empty")


def test_empty_braces(any_api, emulator):
    fails_and_sends_nothing(
        any_api, emulator, "%%gemini\nWhat is {}?", GeminiMagicError, "Empty reference", "line 1"
    )


@pytest.mark.parametrize(
    "prompt, words",
    [
        ("Sum {sales", "Unclosed `{`"),
        ("Sum sales}", "Unmatched `}`"),
        ("Sum {1 + 2}", "not a variable name"),
    ],
)
def test_unbalanced_or_expression_braces(any_api, emulator, prompt, words):
    run = fails_and_sends_nothing(any_api, emulator, f"%%gemini\n{prompt}", GeminiMagicError, words)
    assert "{{" in run.error.hint


def test_prompt_of_several_megabytes(any_api, emulator):
    prompt = "word " * 600_000  # 3 MB
    fails_and_sends_nothing(
        any_api,
        emulator,
        f"%%gemini\n{prompt}",
        GeminiMagicError,
        "2,999,999 characters",
        "max_prompt_chars",
    )


# --- options ------------------------------------------------------------------------------


def test_unknown_option(any_api, emulator):
    run = run_cell(any_api, "%%gemini --bogus\nhello")
    assert not run.success
    assert "unrecognized arguments: --bogus" in str(run.error)
    assert sent_nothing(emulator)


@pytest.mark.parametrize(
    "line, words",
    [
        ("-t hot", "invalid float value"),
        ("-t -1", "between 0 and 2"),
        ("--sample 0", "positive number"),
        ("-o 1abc", "variable name"),
        ("-c ''", "cannot be empty"),
    ],
)
def test_bad_option_value(any_api, emulator, line, words):
    run = run_cell(any_api, f"%%gemini {line}\nhello")
    assert not run.success
    assert words in str(run.error)
    assert sent_nothing(emulator)


@pytest.mark.parametrize(
    "model", ["no such model", "gemini:stream", "gemini?x=1", "../x", "a#b", ""]
)
def test_malformed_model_name(any_api, emulator, model):
    run = fails_and_sends_nothing(
        any_api, emulator, f'%%gemini -m "{model}"\nhello', GeminiMagicError, "not a model name"
    )
    assert "%gemini models" in run.error.hint


def test_malformed_model_name_from_config(any_api, emulator):
    run_cell(any_api, "%config GeminiMagics.model = 'gemini 2.5'")
    fails_and_sends_nothing(
        any_api, emulator, "%%gemini\nhello", GeminiMagicError, "not a model name"
    )


def test_unknown_model_is_the_services_404_with_a_hint(any_api, emulator):
    emulator.inject("status", code=404, message="models/gemini-9 is not found.", count=1)
    run = run_cell(any_api, "%%gemini -m gemini-9\nhello")
    assert not run.success
    assert "models/gemini-9 is not found." in str(run.error)
    assert "%gemini models" in run.error.hint
    (request,) = prompt_requests(emulator)
    if "interactions" in request.path:
        assert request.body["model"] == "gemini-9"
    else:
        assert "models/gemini-9:" in request.path


# --- credentials and history ------------------------------------------------------------


def test_no_api_key(any_api, emulator, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY")
    fails_and_sends_nothing(
        any_api, emulator, "%%gemini\nhello", ConfigurationError, "GEMINI_API_KEY", "offline on"
    )


@pytest.mark.parametrize(
    "content, words",
    [
        (json.dumps({"cells": [], "nbformat": 4}), "not a gemini-magic conversation file"),
        ('{"format": "gemini-magic-conversations", "version": 1, "conv', "not valid JSON"),
        (json.dumps({"format": "gemini-magic-conversations", "version": 99}), "version 99"),
    ],
    ids=["foreign", "truncated", "future-version"],
)
def test_history_file_that_is_not_ours_is_moved_aside_never_overwritten(
    any_api, emulator, tmp_path, content, words
):
    history = tmp_path / "nb.gemini-history.json"
    history.write_text(content)
    magics = any_api.magics_manager.registry["GeminiMagics"]
    magics.history_file = str(history)
    assert magics.session.resume() is None
    run = fails_and_sends_nothing(
        any_api, emulator, "%%gemini\nhello", HistoryError, words, "moved to"
    )
    (aside,) = tmp_path.glob("nb.gemini-history.json.unreadable-*")
    assert aside.read_text() == content, "the unreadable file was changed"
    assert aside.name in str(run.error)
    again = run_cell(any_api, "%%gemini\nhello")
    assert again.success, again.error
    saved = json.loads(history.read_text())
    assert saved["format"] == "gemini-magic-conversations"
    assert aside.read_text() == content


# --- what can be referenced ---------------------------------------------------------------


def attach_and_read_back(any_api, emulator, name: str, frame) -> pd.DataFrame:
    any_api.user_ns[name] = frame
    run = run_cell(any_api, f"%%gemini\nDescribe {{{name}}}.")
    assert run.success, run.error
    assert f"Sent: {name}.csv" in run.all_text()
    return inline_csv(emulator)


def test_frame_with_commas_quotes_newlines_nan_and_unicode(any_api, emulator):
    frame = pd.DataFrame(
        {
            "naïve, name": ["a, b", 'say "hi"', "two\nlines", "日本語 ✓"],
            "value": [1.5, float("nan"), 3.25, -4.0],
        }
    )
    back = attach_and_read_back(any_api, emulator, "tricky", frame)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_frame_with_duplicate_column_names_keeps_both_columns(any_api, emulator):
    frame = pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"])
    back = attach_and_read_back(any_api, emulator, "dup", frame)
    assert back.shape == (2, 2)
    assert back.to_numpy().tolist() == [[1, 2], [3, 4]]


def test_frame_with_multiindex_rows_and_columns_keeps_every_value(any_api, emulator):
    frame = pd.DataFrame(
        {("a", "x"): [1, 2], ("b", "y"): [3, 4]},
        index=pd.MultiIndex.from_tuples([("r", 1), ("s", 2)], names=["k", "n"]),
    )
    back = attach_and_read_back(any_api, emulator, "multi", frame)
    text = back.to_csv()
    for value in ("r", "s", "k", "n", "a", "b"):
        assert value in text
    assert len(back) == 2
    assert {1, 2, 3, 4} <= set(pd.to_numeric(back.stack(), errors="coerce").dropna().astype(int))


def test_categorical_column_is_sent_as_its_values(any_api, emulator):
    frame = pd.DataFrame({"c": pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi"])})
    back = attach_and_read_back(any_api, emulator, "cat", frame)
    assert back["c"].tolist() == ["lo", "hi", "lo"]


def test_datetimes_with_a_time_zone_keep_their_offset(any_api, emulator):
    times = pd.date_range("2024-03-30 23:00", periods=4, freq="h", tz="Europe/Paris")
    back = attach_and_read_back(any_api, emulator, "tz", pd.DataFrame({"t": times}))
    parsed = pd.to_datetime(back["t"], utc=True)
    assert parsed.tolist() == times.tz_convert("UTC").tolist()  # across the DST change


def test_mixed_object_column_is_sent_as_text(any_api, emulator):
    frame = pd.DataFrame({"m": [1, "two", 3.5, None, {"k": 1}]})
    back = attach_and_read_back(any_api, emulator, "mixed", frame)
    assert back["m"].astype(str).tolist()[:3] == ["1", "two", "3.5"]
    assert pd.isna(back["m"][3])
    assert "k" in str(back["m"][4])


def test_bytes_column_is_sent_readably(any_api, emulator):
    frame = pd.DataFrame({"b": [b"\x00\xff", b"abc"]})
    back = attach_and_read_back(any_api, emulator, "raw", frame)
    assert len(back) == 2
    assert "abc" in str(back["b"][1])


def test_empty_frame_is_sent_and_the_sent_line_says_so(any_api, emulator):
    any_api.user_ns["empty"] = pd.DataFrame(columns=["a", "b"])
    run = run_cell(any_api, "%%gemini\nDescribe {empty}.")
    assert run.success, run.error
    assert "Sent: empty.csv (0 rows × 2 columns" in run.all_text()


def test_frame_over_the_size_cap_is_refused_with_the_sample_hint(any_api, emulator):
    any_api.user_ns["big"] = pd.DataFrame({"x": np.arange(100_000)})
    run_cell(any_api, "%config GeminiMagics.max_attachment_bytes = 10000")
    run = fails_and_sends_nothing(any_api, emulator, "%%gemini\nSum {big}.", AttachmentError, "big")
    assert "--sample" in str(run.error)


def test_non_frame_object_is_written_as_text(any_api, emulator):
    any_api.user_ns["threshold"] = {"limit": 42.5}
    run = run_cell(any_api, "%%gemini\nIs {threshold} a lot?")
    assert run.success, run.error
    (request,) = prompt_requests(emulator)
    assert "Is {'limit': 42.5} a lot?" in json.dumps(request.body, ensure_ascii=False).replace(
        '\\"', '"'
    )
    assert "no attachments" in run.all_text()


def test_object_whose_str_raises(any_api, emulator):
    class Stubborn:
        def __str__(self) -> str:
            raise RuntimeError("no text for you")

    any_api.user_ns["stubborn"] = Stubborn()
    fails_and_sends_nothing(
        any_api, emulator, "%%gemini\nLook at {stubborn}.", AttachmentError, "no text for you"
    )
    any_api.user_ns.pop("stubborn")


# --- files and indexed references ---------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "error", "words"),
    [
        ("%%gemini\nRead {missing_path}.", AttachmentError, "there is no file"),
        ("%%gemini\nRead {folder}.", AttachmentError, "folder"),
        ("%%gemini\nRead {empty}.", AttachmentError, "empty"),
        ("%%gemini\nRead {binary}.", AttachmentError, "Supported: text and code"),
        ("%%gemini -f nowhere.csv\nRead it.", AttachmentError, "nowhere.csv"),
        ("%%gemini\nRead {frames['feb']}.", GeminiMagicError, "'feb'"),
        ("%%gemini\nRead {frames[len(frames)]}.", UsageError, "allowed"),
    ],
)
def test_bad_input_is_one_clear_error_and_nothing_is_sent(
    any_api, emulator, tmp_path, cell, error, words
):
    (tmp_path / "folder").mkdir()
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "blob.xyz").write_bytes(b"\x00\x01")
    any_api.user_ns.update(
        missing_path=Path("missing.txt"),
        folder=tmp_path / "folder",
        empty=tmp_path / "empty.txt",
        binary=tmp_path / "blob.xyz",
        frames={"jan": pd.DataFrame({"v": [1]})},
    )
    run = run_cell(any_api, cell)
    assert isinstance(run.error, error), run.error
    assert words in str(run.error)
    assert emulator.log == []
