"""Large frames go over the wire once; model-made images are not re-sent.

Every assertion reads the emulator's request log: what the SDK really put on the wire.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gemini_magic.inputs.frames import to_csv_bytes
from tests.helpers.magic import run_cell
from tests.helpers.wire import (
    file_uris,
    generate_requests,
    inline_blobs,
    media,
    parts_of,
    prompt_requests,
)

#: A text-only scripted answer: no code runs, so a many-turn test stays fast.
PLAIN = [{"match": ".", "parts": [{"text": "Noted."}]}]

#: An answer with a Matplotlib figure, then a text-only answer for every other prompt.
PLOT = [
    {
        "match": "scatter",
        "parts": [
            {"text": "Here is the plot."},
            {
                "code": "import matplotlib.pyplot as plt\n"
                "plt.scatter([1, 2, 3], [3, 1, 2])\n"
                "print('plotted')"
            },
            {"text": "Done."},
        ],
    },
    *PLAIN,
]


def make_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=rows).round(6),
            "y": rng.integers(0, 1_000_000, rows),
            "label": [f"item-{i:07d}" for i in range(rows)],
        }
    )


#: About 300 KB of CSV: above the default 200,000-byte upload threshold.
BIG = make_frame(10_000)


def upload_starts(emulator) -> list:
    return [
        r
        for r in emulator.log
        if r.path.startswith("/upload/") and r.headers.get("x-goog-upload-command") == "start"
    ]


def upload_data(emulator) -> list:
    return [r for r in emulator.log if r.path.startswith("/upload/") and "upload_id" in r.query]


@pytest.fixture
def plain(request, emulator_with_replies):
    """Plain replies, and no context cache: these tests count what is re-sent each turn.

    The setting goes to the test's shell: ``any_api`` where the test runs on both APIs,
    else ``ip``.
    """
    shell = request.getfixturevalue("any_api" if "any_api" in request.fixturenames else "ip")
    shell.run_line_magic("config", "GeminiMagics.context_cache = False")
    return emulator_with_replies(PLAIN)


def test_a_large_frame_is_uploaded_once_and_referenced_afterwards(ip, plain):
    ip.user_ns["big"] = BIG
    csv = to_csv_bytes(BIG)
    assert len(csv) > 200_000
    assert run_cell(ip, "%%gemini\nSummarise {big}.").success
    assert run_cell(ip, "%%gemini\nAnd the largest x?").success
    assert run_cell(ip, "%%gemini\nThank you.").success

    (start,) = upload_starts(plain)
    (data,) = upload_data(plain)
    assert data.raw == csv
    assert start.headers["x-goog-upload-header-content-type"] == "text/csv"
    requests = generate_requests(plain)
    assert len(requests) == 3
    uri = file_uris(requests[0].body)
    assert len(uri) == 1
    for request in requests:
        assert file_uris(request.body) == uri
        assert inline_blobs(request.body, "text/csv") == []
        assert request.bytes_in < len(csv) / 10


def test_a_small_frame_stays_inline(any_api, plain):
    any_api.user_ns["sales"] = make_frame(50)
    assert run_cell(any_api, "%%gemini\nSummarise {sales}.").success
    assert upload_starts(plain) == []
    (request,) = prompt_requests(plain)
    assert media(request) == [("text/csv", to_csv_bytes(make_frame(50)))]


def test_the_threshold_is_a_setting(any_api, plain):
    any_api.user_ns["sales"] = make_frame(50)
    assert run_cell(any_api, "%config GeminiMagics.upload_threshold = 1000").success
    assert run_cell(any_api, "%%gemini\nSummarise {sales}.").success
    assert len(upload_starts(plain)) == 1
    (request,) = prompt_requests(plain)
    (upload,) = upload_data(plain)
    assert upload.raw == to_csv_bytes(make_frame(50))
    assert media(request) == []  # the frame went by its upload, not inline
    assert "/files/" in json.dumps(request.body)


def test_an_unchanged_frame_attached_again_is_not_uploaded_again(ip, plain):
    ip.user_ns["big"] = BIG
    assert run_cell(ip, "%%gemini\nSummarise {big}.").success
    ip.user_ns["big"] = BIG.copy()  # another object, the same content
    assert run_cell(ip, "%%gemini\nLook at {big} again.").success
    assert len(upload_starts(plain)) == 1
    first, second = generate_requests(plain)
    (uri,) = file_uris(first.body)
    assert file_uris(second.body) == [uri, uri]


def test_a_changed_frame_is_uploaded_anew(ip, plain):
    ip.user_ns["big"] = BIG
    assert run_cell(ip, "%%gemini\nSummarise {big}.").success
    changed = BIG.copy()
    changed.loc[0, "x"] = 1234.5
    ip.user_ns["big"] = changed
    assert run_cell(ip, "%%gemini\nLook at {big} now.").success
    starts, datas = upload_starts(plain), upload_data(plain)
    assert len(starts) == 2
    assert datas[1].raw == to_csv_bytes(changed)
    first, second = generate_requests(plain)
    (old,) = file_uris(first.body)
    assert file_uris(second.body)[0] == old  # turn 1 keeps its own version
    assert file_uris(second.body)[1] != old


def test_an_expired_upload_is_uploaded_again_and_the_conversation_goes_on(ip, plain):
    ip.user_ns["big"] = BIG
    assert run_cell(ip, "%%gemini\nSummarise {big}.").success
    (old,) = file_uris(generate_requests(plain)[0].body)
    name = "files/" + old.rstrip("/").rsplit("/", 1)[-1]
    assert plain.inject("expire_file", name=name) == [name]

    run = run_cell(ip, "%%gemini\nWhat about the labels?")
    assert run.success, run.error
    assert "had expired" in run.all_text() and "uploaded again" in run.all_text()
    assert len(upload_starts(plain)) == 2
    assert upload_data(plain)[1].raw == to_csv_bytes(BIG)
    answered = [r for r in generate_requests(plain) if r.status == 200]
    refused = [r for r in generate_requests(plain) if r.status == 403]
    assert len(refused) == 1 and file_uris(refused[0].body) == [old]
    (new,) = file_uris(answered[-1].body)
    assert new != old
    texts = [p["text"] for p in parts_of(answered[-1].body, "user") if "text" in p]
    assert "Summarise big.csv." in texts and "What about the labels?" in texts

    assert run_cell(ip, "%%gemini\nThanks.").success  # the repaired history is kept
    assert len(upload_starts(plain)) == 2
    assert file_uris(generate_requests(plain)[-1].body) == [new]


def test_images_the_model_made_are_not_sent_back(ip, emulator_with_replies):
    emulator = emulator_with_replies(PLOT)
    first = run_cell(ip, "%%gemini\nDraw a scatter please.")
    assert first.success, first.error
    (png,) = first.images()
    assert run_cell(ip, "%%gemini\nWhat did it show?").success
    _first, second = generate_requests(emulator)
    assert inline_blobs(second.body, "image/") == []
    stand_ins = [p["text"] for p in parts_of(second.body, "model") if "text" in p]
    assert any(f"image/png output of {len(png):,} bytes" in t for t in stand_ins)
    assert any("executableCode" in p for p in parts_of(second.body, "model"))
    assert second.bytes_in < len(png)


def test_resend_media_sends_the_images_back(ip, emulator_with_replies):
    emulator = emulator_with_replies(PLOT)
    assert run_cell(ip, "%config GeminiMagics.resend_media = True").success
    first = run_cell(ip, "%%gemini\nDraw a scatter please.")
    (png,) = first.images()
    assert run_cell(ip, "%%gemini\nWhat did it show?").success
    _first, second = generate_requests(emulator)
    assert inline_blobs(second.body, "image/") == [png]


def test_ten_turns_over_a_1mb_frame_cost_at_most_1_2_times_its_csv(any_api, plain):
    """The frame attached in turn 1 and again in turn 10 crosses the wire once."""
    frame = make_frame(34_000, seed=1)
    csv = to_csv_bytes(frame)
    assert 900_000 < len(csv) < 1_200_000
    run_cell(any_api, "%config GeminiMagics.max_attachment_bytes = 2000000")
    any_api.user_ns["big"] = frame
    prompts = ["Summarise {big}."]
    prompts += [f"Question {n} about the data, please." for n in range(2, 10)]
    prompts += ["Check {big} once more."]
    for prompt in prompts:
        run = run_cell(any_api, f"%%gemini\n{prompt}")
        assert run.success, run.error
    assert len(prompt_requests(plain)) == 10
    assert len(upload_starts(plain)) == 1
    wire = sum(r.bytes_in for r in plain.log)
    assert wire <= 1.2 * len(csv), f"{wire:,} bytes sent for a {len(csv):,}-byte CSV"


def test_the_same_frame_under_two_names_is_two_files(any_api, emulator):
    frame = pd.DataFrame({"x": range(20_000), "label": [f"row {i}" for i in range(20_000)]})
    any_api.user_ns.update(first=frame, second=frame)
    run_cell(any_api, "%config GeminiMagics.upload_threshold = 1000")
    assert run_cell(any_api, "%%gemini\nSummarise {first}.").success
    assert run_cell(any_api, "%%gemini\nSummarise {second}.").success
    starts = [
        r.body["file"].get("displayName") or r.body["file"].get("display_name")
        for r in emulator.log
        if r.path.startswith("/upload/") and r.body
    ]
    assert starts == ["first.csv", "second.csv"]
