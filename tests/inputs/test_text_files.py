"""Text and source files go to the sandbox as files, on both APIs (over real HTTP).

A ``.md``, ``.json``, ``.yaml``, ``.py`` or ``.sql`` file attached by a ``Path`` or by
``-f`` is a file the sandbox's code can open: on Interactions a ``document`` with its own
MIME type (inline, or through the Files API above the upload threshold), on
generateContent inline data; the model is told its sandbox name.  A 400 that names the
type makes the turn go again with the file as text, and one line says so.
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.helpers.magic import run_cell
from tests.helpers.wire import generate_requests, interaction_requests

READ = [
    {
        "match": "read the file",
        "parts": [
            {"code": "import os\nname = sorted(os.listdir('.'))[0]\nprint(open(name).read())"},
            {"text": "It says: {output}"},
        ],
    },
    {"match": ".", "parts": [{"text": "Noted."}]},
]


@pytest.fixture(params=["interactions", "generate_content"])
def shell(request, ix, emulator_with_replies):
    ix.magics_manager.registry["GeminiMagics"].api = request.param
    emulator_with_replies(READ)
    return ix


def _last(emulator):
    return (interaction_requests(emulator) or generate_requests(emulator))[-1]


def _blocks(request) -> list[dict]:
    """The content blocks of an Interactions request's new turn."""
    steps = [s for s in request.body["input"] if s.get("type") == "user_input"]
    return steps[-1]["content"] if steps else request.body["input"]


def _files(request) -> list[tuple[str, bytes | str]]:
    """(MIME type, bytes or URI) of every file a request's new turn carries."""
    if "interactions" in request.path:
        blocks = _blocks(request)
        return [
            (b["mime_type"], base64.b64decode(b["data"]) if "data" in b else b["uri"])
            for b in blocks
            if b["type"] == "document"
        ]
    found = []
    for part in request.body["contents"][-1]["parts"]:
        blob = part.get("inlineData") or part.get("inline_data")
        if blob:
            found.append(
                (
                    blob.get("mimeType") or blob["mime_type"],
                    base64.urlsafe_b64decode(blob["data"] + "=="),
                )
            )
    return found


@pytest.mark.parametrize(
    ("name", "mime", "text"),
    [
        ("notes.md", "text/markdown", "# Notes\nalpha\n"),
        ("data.json", "application/json", '{"a": 1}\n'),
        ("config.yaml", "text/plain", "a: 1\n"),
        ("model.py", "text/x-python", "print('hi')\n"),
        ("query.sql", "text/plain", "select 1;\n"),
    ],
)
def test_a_text_file_is_a_file_the_sandbox_opens(shell, emulator, tmp_path, name, mime, text):
    (tmp_path / name).write_text(text)
    run = run_cell(shell, f"%%gemini -f {name}\nread the file")
    assert run.success, run.error
    request = _last(emulator)
    assert _files(request) == [(mime, text.encode())]
    told = json.dumps(request.body)
    assert name in told
    answer = shell.user_ns["_gemini"]
    # The emulator's sandbox opened it (named as the service names it, or by its name).
    assert text.strip().splitlines()[0] in answer.results[0].output
    if "interactions" in request.path:
        suffix = {"text/plain": ".txt"}.get(mime, "." + name.rsplit(".", 1)[1])
        assert f"`input_file_0{suffix}`" in told


def test_a_text_file_above_the_upload_threshold_goes_through_the_files_api(ix, emulator, tmp_path):
    (tmp_path / "notes.md").write_text("# Notes\n" + "line of notes\n" * 200)
    assert run_cell(ix, "%config GeminiMagics.upload_threshold = 1000").success
    run = run_cell(ix, "%%gemini -f notes.md\nSummarise it.")
    assert run.success, run.error
    ((mime, uri),) = _files(_last(emulator))
    assert mime == "text/markdown" and "/files/" in uri


def test_a_refused_document_type_is_sent_again_as_text_with_one_line(ix, emulator, tmp_path):
    (tmp_path / "notes.md").write_text("# Notes\nalpha\n")
    emulator.inject(
        "status", code=400, message="Unsupported MIME type for a document: text/markdown."
    )
    run = run_cell(ix, "%%gemini -f notes.md\nSummarise it.")
    assert run.success, run.error
    notes = [t for t in run.texts() if "refused text/markdown as a document" in t]
    assert notes == [
        "The service refused text/markdown as a document, so the file was sent again as "
        "text: the model reads it, but the sandbox does not have it."
    ]
    refused, resent = interaction_requests(emulator)
    assert _files(refused) == [("text/markdown", b"# Notes\nalpha\n")]
    assert _files(resent) == []
    texts = [b.get("text", "") for b in _blocks(resent)]
    assert any("# Notes\nalpha" in t and "sandbox does not have it" in t for t in texts)
