"""Images, figures, files, indexed references, the last error and Google Search reach the
request on both APIs, as the emulator's request log shows; bad input sends nothing."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from PIL import Image

from gemini_magic.errors import AttachmentError, GeminiMagicError, UsageError
from tests.helpers.magic import run_cell
from tests.helpers.wire import generate_requests, inline_blobs, interaction_requests

SEARCH_REPLY = [
    {
        "match": "population of lyon",
        "parts": [
            {
                "search": {
                    "queries": ["population of Lyon"],
                    "sources": [
                        {"title": "INSEE: Lyon", "uri": "https://www.insee.fr/fr/statistiques/lyon"}
                    ],
                    "suggestions": '<div class="chips"><a href="https://www.google.com/search?q=lyon">'
                    'Lyon</a><script>alert(1)</script><img src=x onerror="alert(2)"></div>',
                }
            },
            {"text": "Lyon had about 522,000 inhabitants in 2021."},
        ],
    }
]


def _blocks(request) -> list[dict]:
    """The content blocks of an Interactions request's new user input."""
    (step,) = [s for s in request.body["input"] if s.get("type") == "user_input"][-1:]
    return step["content"]


def _media(request) -> list[tuple[str, bytes]]:
    """(MIME type, bytes) of every image and document the request carries, on either API."""
    if "interactions" in request.path:
        return [
            (b["mime_type"], base64.b64decode(b["data"]))
            for b in _blocks(request)
            if b["type"] in ("image", "document") and "data" in b
        ]
    found = []
    for content in request.body["contents"]:
        for part in content["parts"]:
            blob = part.get("inlineData") or part.get("inline_data")
            if blob:
                mime = blob.get("mimeType") or blob.get("mime_type")
                data = blob["data"]
                found.append((mime, base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))))
    return found


def _last_request(emulator):
    requests = interaction_requests(emulator) or generate_requests(emulator)
    return requests[-1]


@pytest.fixture(params=["interactions", "generate_content"])
def shell(request, ix):
    """The shell on each API in turn."""
    ix.magics_manager.registry["GeminiMagics"].api = request.param
    return ix


def test_a_pil_image_goes_as_an_image_at_its_pixel_size(shell, emulator):
    shell.user_ns["photo"] = Image.new("RGB", (64, 48), (200, 30, 30))
    run = run_cell(shell, "%%gemini\nWhat colour is {photo}?")
    assert run.success, run.error
    ((mime, data),) = _media(_last_request(emulator))
    assert mime == "image/png"
    assert Image.open(io.BytesIO(data)).size == (64, 48)
    assert "photo.png (image, 64×48" in run.all_text()


def test_a_matplotlib_figure_goes_as_a_png_at_its_dpi(shell, emulator):
    figure, axes = plt.subplots(figsize=(2, 1), dpi=50)
    axes.plot([1, 2, 3])
    shell.user_ns["fig"] = figure
    assert run_cell(shell, "%%gemini\nDescribe {fig}.").success
    ((mime, data),) = _media(_last_request(emulator))
    assert mime == "image/png"
    assert Image.open(io.BytesIO(data)).size == (100, 50)
    plt.close(figure)


def test_a_path_to_a_text_file_sends_its_bytes_under_its_name(shell, emulator, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("alpha beta\ngamma\n")
    shell.user_ns["notes"] = notes
    assert run_cell(shell, "%%gemini\nCount the words in {notes}.").success
    body = json.dumps(_last_request(emulator).body)
    assert "notes.txt" in body
    request = _last_request(emulator)
    if "interactions" in request.path:  # no document type for text/plain: sent as text
        assert any("alpha beta" in b.get("text", "") for b in _blocks(request))
    else:
        assert inline_blobs(request.body, "text/plain") == [b"alpha beta\ngamma\n"]


def test_dash_f_attaches_a_file_relative_to_the_working_folder(shell, emulator, tmp_path):
    pd.DataFrame({"x": [1, 2, 3]}).to_csv(tmp_path / "numbers.csv", index=False)
    run = run_cell(shell, "%%gemini -f numbers.csv\nSum x.")
    assert run.success, run.error
    ((mime, data),) = _media(_last_request(emulator))
    assert (mime, data) == ("text/csv", b"x\n1\n2\n3\n")


def test_an_indexed_reference_attaches_that_item(shell, emulator):
    shell.user_ns["frames"] = {"jan": pd.DataFrame({"v": [1]}), "mar": pd.DataFrame({"v": [3]})}
    assert run_cell(shell, "%%gemini\nSummarise {frames['jan']}.").success
    ((mime, data),) = _media(_last_request(emulator))
    assert mime == "text/csv"
    pd.testing.assert_frame_equal(pd.read_csv(io.BytesIO(data)), pd.DataFrame({"v": [1]}))
    assert "frames_jan.csv" in json.dumps(_last_request(emulator).body)


def test_error_attaches_the_last_exception_with_its_cell(shell, emulator):
    run_cell(shell, "def ratio(a, b):\n    return a / b\nratio(1, 0)")
    run = run_cell(shell, "%%gemini --error\nWhy did this fail? Fix it.")
    assert run.success, run.error
    body = json.dumps(_last_request(emulator).body)
    request = _last_request(emulator)
    sent = (
        "".join(b.get("text", "") for b in _blocks(request))
        if "interactions" in (request.path)
        else b"".join(inline_blobs(request.body, "text/plain")).decode()
    )
    assert "ZeroDivisionError" in sent and "return a / b" in sent
    assert "\x1b[" not in body  # no ANSI colours


def test_search_shows_queries_sources_and_a_sanitised_entry_point(shell, emulator_with_replies):
    emulator = emulator_with_replies(SEARCH_REPLY)
    run = run_cell(shell, "%%gemini --search\nWhat is the population of Lyon?")
    assert run.success, run.error
    request = _last_request(emulator)
    search_tool = {
        "interactions": {"type": "google_search"},
        "generate_content": {"googleSearch": {}},
    }
    api = shell.magics_manager.registry["GeminiMagics"].api
    assert search_tool[api] in request.body["tools"]
    (search,) = [o for o in run.outputs if "gemini-magic-search" in o.get("text/html", "")]
    assert "population of Lyon" in search["text/html"]
    assert 'href="https://www.insee.fr/fr/statistiques/lyon"' in search["text/html"]
    assert "<script" not in search["text/html"] and "onerror" not in search["text/html"]
    assert "INSEE: Lyon — https://www.insee.fr" in search["text/plain"]
    response = shell.user_ns["_gemini"]
    assert response.grounding.queries == ["population of Lyon"]


def test_search_unscripted_offline_says_so_and_invents_no_source(shell, emulator):
    run = run_cell(shell, "%%gemini --search\nWho won yesterday?")
    assert run.success, run.error
    assert "not available in the offline emulator" in run.all_text()
    assert not [o for o in run.outputs if "gemini-magic-search" in o.get("text/html", "")]


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
    ix, emulator, tmp_path, cell, error, words
):
    (tmp_path / "folder").mkdir()
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "blob.xyz").write_bytes(b"\x00\x01")
    ix.user_ns.update(
        missing_path=Path("missing.txt"),
        folder=tmp_path / "folder",
        empty=tmp_path / "empty.txt",
        binary=tmp_path / "blob.xyz",
        frames={"jan": pd.DataFrame({"v": [1]})},
    )
    run = run_cell(ix, cell)
    assert isinstance(run.error, error), run.error
    assert words in str(run.error)
    assert emulator.log == []


def test_error_with_no_error_yet_is_refused(ix, emulator):
    import sys

    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        if hasattr(sys, name):
            delattr(sys, name)
    run = run_cell(ix, "%%gemini --error\nWhy?")
    assert isinstance(run.error, UsageError)
    assert emulator.log == []


def test_a_file_over_the_cap_is_refused_with_its_size(ix, emulator, tmp_path):
    (tmp_path / "big.txt").write_text("x" * 5_000)
    assert run_cell(ix, "%config GeminiMagics.max_file_bytes = 1000").success
    run = run_cell(ix, "%%gemini -f big.txt\nRead it.")
    assert isinstance(run.error, AttachmentError)
    assert "5.0 kB" in str(run.error)
    assert emulator.log == []
