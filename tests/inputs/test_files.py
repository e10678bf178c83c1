"""Files attached by Path and by -f, and the bad ones refused.

Real files written in ``tmp_path``.  Every bad input is checked for its error type and
the words that name the problem.  The last tests go through %%gemini and read the
request log.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from gemini_magic.errors import AttachmentError, FileAttachmentError
from gemini_magic.inputs.files import FileAttachment
from gemini_magic.inputs.images import ImageAttachment
from gemini_magic.inputs.prompt import Limits, prepare_prompt
from tests.helpers.inputs import only, png_bytes
from tests.helpers.magic import run_cell
from tests.helpers.wire import inline_blobs, media, prompt_requests, user_blocks

# --- files by Path and by -f --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mime", "kind"),
    [
        ("notes.txt", "text/plain", "file"),
        ("model.py", "text/x-python", "file"),
        ("main.cpp", "text/plain", "file"),
        ("page.html", "text/html", "file"),
        ("config.yaml", "text/plain", "file"),
        ("data.JSON", "text/plain", "file"),
    ],
)
def test_a_path_to_a_text_file_attaches_its_bytes_under_its_name(
    tmp_path: Path, name: str, mime: str, kind: str
) -> None:
    path = tmp_path / name
    path.write_bytes("línea 1\nline 2\n".encode())
    attachment = only("Review {src}", {"src": path})
    assert isinstance(attachment, FileAttachment)
    assert (attachment.filename, attachment.mime_type, attachment.kind) == (name, mime, kind)
    assert attachment.data == path.read_bytes()
    assert attachment.value_type == f"pathlib.{type(path).__name__}"
    assert attachment.summary() == f"{name} (file, {len(attachment.data)} B)"
    text = attachment.describe()
    assert f"`{name}` is the text file that `src` names (2 lines)" in text
    assert str(tmp_path) not in text


def test_a_csv_file_is_attached_like_a_frame_with_its_shape(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    pd.DataFrame({"region": ["N", "S,E"], "note": ["a\nb", "c"], "units": [1, 2]}).to_csv(
        path, index=False
    )
    prepared = prepare_prompt("Total the units", {}, files=["sales.csv"], cwd=tmp_path)
    (attachment,) = prepared.attachments
    assert (attachment.mime_type, attachment.rows, attachment.columns) == ("text/csv", 2, 3)
    assert attachment.column_names == ("region", "note", "units")
    assert attachment.name == "sales.csv"
    assert (
        attachment.summary() == f"sales.csv (CSV file, 2 rows × 3 columns, {path.stat().st_size} B)"
    )
    text = attachment.describe()
    assert "`sales.csv` is the CSV file `sales.csv`: 2 rows × 3 columns." in text
    assert "pandas.read_csv('sales.csv')" in text
    assert "Columns: region, note, units." in text


def test_a_path_to_an_image_file_records_its_pixel_size(tmp_path: Path) -> None:
    path = tmp_path / "shot.png"
    path.write_bytes(png_bytes((30, 20)))
    attachment = only("{p}", {"p": path})
    assert isinstance(attachment, ImageAttachment)
    assert (attachment.kind, attachment.mime_type, attachment.path) == ("image", "image/png", path)
    assert attachment.summary() == f"shot.png (image, 30×20, {len(attachment.data)} B)"
    assert "`shot.png` is the image file that `p` names (image/png, 30×20 pixels)" in (
        attachment.describe()
    )


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("report.pdf", "application/pdf"),
        ("memo.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("deck.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ],
)
def test_documents_are_attached_with_the_api_mime_type(
    tmp_path: Path, name: str, mime: str
) -> None:
    (tmp_path / name).write_bytes(b"%PDF-1.4 not really\x00\xff")
    attachment = only("Summarise", {}, files=[name], cwd=tmp_path)
    assert (attachment.kind, attachment.mime_type) == ("document", mime)
    assert attachment.summary() == f"{name} (document, 21 B)"
    assert f"`{name}` is the document `{name}`" in attachment.describe()
    assert "sandbox may not hold documents" in attachment.describe()


def test_a_str_is_never_read_as_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("secret")
    prepared = prepare_prompt("Read {name}", {"name": "notes.txt"})
    assert (prepared.text, prepared.attachments) == ("Read notes.txt", ())


def test_f_files_are_relative_to_the_working_folder_and_come_first(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_text("a\n")
    (tmp_path / "b.py").write_text("b = 1\n")
    photo = Image.new("RGB", (4, 4))
    prepared = prepare_prompt(
        "Explain {photo}", {"photo": photo}, files=["data/a.txt", Path("b.py")], cwd=tmp_path
    )
    assert [(a.name, a.filename, a.position) for a in prepared.attachments] == [
        ("data/a.txt", "a.txt", 0),
        ("b.py", "b.py", 1),
        ("photo", "photo.png", 2),
    ]
    assert [a.sandbox_names[1] for a in prepared.attachments] == [
        "input_file_0.txt",
        "input_file_1.py",
        "input_file_2.png",
    ]
    assert "the text file `data/a.txt`" in prepared.attachments[0].describe()
    assert prepared.sent_summary().startswith(
        "Sent: a.txt (file, 2 B), b.py (file, 6 B), photo.png"
    )


def test_a_file_named_by_f_and_by_a_path_is_sent_once(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no newline at the end")
    prepared = prepare_prompt(
        "Read {p}", {"p": tmp_path / "notes.txt"}, files=["notes.txt"], cwd=tmp_path
    )
    (attachment,) = prepared.attachments
    assert (attachment.name, prepared.text) == ("notes.txt", "Read notes.txt")
    assert "(1 line)" in attachment.describe()


def test_two_files_with_one_name_get_distinct_names(tmp_path: Path) -> None:
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.txt").write_text(folder)
    prepared = prepare_prompt("diff", {}, files=["x/notes.txt", "y/notes.txt"], cwd=tmp_path)
    assert [a.filename for a in prepared.attachments] == ["notes.txt", "notes_2.txt"]
    assert [a.data for a in prepared.attachments] == [b"x", b"y"]


# --- bad files ----------------------------------------------------------------------------


def refused(tmp_path: Path, path: str, **limits: int) -> FileAttachmentError:
    with pytest.raises(FileAttachmentError) as caught:
        prepare_prompt("Look", {}, files=[path], cwd=tmp_path, limits=Limits(**limits))
    return caught.value


def test_a_missing_file_is_named_with_where_relative_paths_start(tmp_path: Path) -> None:
    error = refused(tmp_path, "nope.csv")
    assert f"`nope.csv`: there is no file {tmp_path / 'nope.csv'}" in error.message
    assert "nothing was sent" in error.message
    assert str(tmp_path) in error.hint


def test_a_missing_path_reference_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileAttachmentError, match=r"`p`: there is no file .*gone\.txt"):
        prepare_prompt("{p}", {"p": tmp_path / "gone.txt"})


def test_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    error = refused(tmp_path, "data")
    assert "is a folder, not a file" in error.message
    assert "one by one" in error.hint


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    assert "is empty (0 bytes)" in refused(tmp_path, "empty.txt").message


def test_an_unsupported_type_lists_the_supported_ones(tmp_path: Path) -> None:
    (tmp_path / "tool.exe").write_bytes(b"MZ")
    (tmp_path / "Makefile").write_text("all:\n")
    error = refused(tmp_path, "tool.exe")
    assert "tool.exe is a .exe file, which cannot be attached" in error.message
    for ext in (".txt", ".py", ".csv", ".png", ".jpeg", ".pdf", ".docx", ".xlsx", ".pptx"):
        assert ext in error.hint
    assert "a file without an extension" in refused(tmp_path, "Makefile").message


def test_a_file_over_the_per_file_cap_is_refused_with_its_size(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("x" * 5_000)
    error = refused(tmp_path, "big.txt", max_file_bytes=1_000)
    assert "big.txt is 5.0 kB, over the 1.0 kB limit for one file (max_file_bytes)" in (
        error.message
    )
    assert "--sample" in error.hint


def test_text_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    (tmp_path / "latin.txt").write_bytes("café".encode("latin-1"))
    error = refused(tmp_path, "latin.txt")
    assert "is not UTF-8 text (byte 3 cannot be decoded)" in error.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "locked.txt"
    path.write_text("x")
    path.chmod(0)
    try:
        assert "cannot be read (Permission denied)" in refused(tmp_path, "locked.txt").message
    finally:
        path.chmod(0o600)


def test_attachments_over_the_request_cap_are_refused_together(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a" * 600)
    (tmp_path / "b.txt").write_text("b" * 600)
    with pytest.raises(AttachmentError) as caught:
        prepare_prompt(
            "both",
            {},
            files=["a.txt", "b.txt"],
            cwd=tmp_path,
            limits=Limits(max_request_bytes=1_000),
        )
    assert type(caught.value) is AttachmentError
    assert "are 1.2 kB together, over the 1.0 kB limit for one request" in caught.value.message
    assert "a.txt 600 B, b.txt 600 B" in caught.value.hint


def test_a_bad_file_fails_before_any_frame_is_encoded(tmp_path: Path) -> None:
    class Frame(pd.DataFrame):
        def to_csv(self, *args: object, **kwargs: object) -> str:  # type: ignore[override]
            raise AssertionError("a frame was encoded")

    with pytest.raises(FileAttachmentError):
        prepare_prompt("{f}", {"f": Frame({"a": [1]})}, files=["missing.txt"], cwd=tmp_path)


def test_a_path_that_cannot_be_read_says_why(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    error = refused(tmp_path, "file.txt/inner.txt")
    assert "file.txt/inner.txt cannot be read (Not a directory)" in error.message


def test_a_fifo_is_not_a_regular_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    assert "is not a regular file" in refused(tmp_path, "pipe.txt").message


def test_the_digest_follows_the_bytes_of_every_kind(tmp_path: Path) -> None:
    photo = Image.new("RGB", (8, 8), "white")
    first = only("{photo}", {"photo": photo}).digest
    assert only("{photo}", {"photo": photo.copy()}).digest == first
    photo.putpixel((0, 0), (0, 0, 0))
    assert only("{photo}", {"photo": photo}).digest != first
    path = tmp_path / "a.txt"
    path.write_text("one")
    before = only("{p}", {"p": path}).digest
    path.write_text("two")
    assert only("{p}", {"p": path}).digest != before


# --- through %%gemini, on both APIs ------------------------------------------------------


def test_a_path_to_a_text_file_sends_its_bytes_under_its_name(any_api, emulator, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("alpha beta\ngamma\n")
    any_api.user_ns["notes"] = notes
    assert run_cell(any_api, "%%gemini\nCount the words in {notes}.").success
    body = json.dumps(prompt_requests(emulator)[-1].body)
    assert "notes.txt" in body
    request = prompt_requests(emulator)[-1]
    if "interactions" in request.path:  # no document type for text/plain: sent as text
        assert any("alpha beta" in b.get("text", "") for b in user_blocks(request))
    else:
        assert inline_blobs(request.body, "text/plain") == [b"alpha beta\ngamma\n"]


def test_dash_f_attaches_a_file_relative_to_the_working_folder(any_api, emulator, tmp_path):
    pd.DataFrame({"x": [1, 2, 3]}).to_csv(tmp_path / "numbers.csv", index=False)
    run = run_cell(any_api, "%%gemini -f numbers.csv\nSum x.")
    assert run.success, run.error
    ((mime, data),) = media(prompt_requests(emulator)[-1])
    assert (mime, data) == ("text/csv", b"x\n1\n2\n3\n")


def test_a_file_over_the_cap_is_refused_with_its_size(ix, emulator, tmp_path):
    (tmp_path / "big.txt").write_text("x" * 5_000)
    assert run_cell(ix, "%config GeminiMagics.max_file_bytes = 1000").success
    run = run_cell(ix, "%%gemini -f big.txt\nRead it.")
    assert isinstance(run.error, AttachmentError)
    assert "5.0 kB" in str(run.error)
    assert emulator.log == []
