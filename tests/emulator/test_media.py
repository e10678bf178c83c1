"""Images and documents in the emulator, on both APIs, through the real SDK.

The built-in analyst measures what it can (an image's size and main colour, a text's
lines and words, a PDF's pages where pypdf is importable) with code that really runs,
and says plainly what it cannot do.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import re
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from google.genai import types
from PIL import Image

MODEL = "gemini-3-flash-preview"
CANNOT_SEE = "cannot see what an image shows"
TEXT = b"first line has five words\nsecond line\n\nlast\n"
TEXT_FACTS = "4 lines, 8 words, 44 characters"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A picture mostly of ``colour``, with a small white corner."""
    picture = Image.new("RGB", (width, height), colour)
    picture.paste((255, 255, 255), (0, 0, width // 5, height // 5))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def pdf_bytes() -> bytes:
    figure, axes = plt.subplots()
    axes.plot([1, 2, 3])
    out = io.BytesIO()
    figure.savefig(out, format="pdf")
    plt.close(figure)
    return out.getvalue()


def generate_output(response: types.GenerateContentResponse) -> tuple[str, str]:
    """The code's output and the answer's last text."""
    parts = response.candidates[0].content.parts
    [result] = [p.code_execution_result for p in parts if p.code_execution_result]
    return result.output, parts[-1].text


def interaction_output(interaction: Any) -> tuple[str, str]:
    [result] = [s for s in interaction.steps if s.type == "code_execution_result"]
    return result.result, interaction.steps[-1].content[-1].text


def test_generate_content_measures_an_inline_image(client):
    image = types.Part.from_bytes(data=png(120, 80, (0, 128, 0)), mime_type="image/png")
    response = client.models.generate_content(model=MODEL, contents=[image, "What is this?"])
    output, answer = generate_output(response)
    assert "input_file_0.png: 120 x 80 pixels, PNG RGB" in output
    assert re.search(r"main colour of input_file_0\.png: #008000 \(9\d% of the picture\)", output)
    assert "- input_file_0.png: **120 x 80 pixels, PNG RGB**" in answer
    assert CANNOT_SEE in answer


def test_generate_content_reads_an_uploaded_image_by_file_data(client, tmp_path):
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(path, "JPEG")
    uploaded = client.files.upload(file=path, config={"mime_type": "image/jpeg"})
    image = types.Part.from_uri(file_uri=uploaded.uri, mime_type="image/jpeg")
    output, _ = generate_output(
        client.models.generate_content(model=MODEL, contents=[image, "How big is it?"])
    )
    assert "64 x 48 pixels, JPEG RGB" in output
    assert re.search(r"main colour of input_file_0\.jpg: #c[89a-f][0-9a-f]{4} \(100%", output)


def test_generate_content_counts_a_text_files_lines_and_words(client):
    text = types.Part.from_bytes(data=TEXT, mime_type="text/plain")
    output, answer = generate_output(
        client.models.generate_content(model=MODEL, contents=[text, "Summarise the file."])
    )
    assert f"input_file_0.txt: {TEXT_FACTS}" in output
    assert f"**{TEXT_FACTS}**" in answer


def test_pdf_pages_are_counted_only_with_a_pdf_library(client):
    document = types.Part.from_bytes(data=pdf_bytes(), mime_type="application/pdf")
    output, answer = generate_output(
        client.models.generate_content(model=MODEL, contents=[document, "How long is it?"])
    )
    if importlib.util.find_spec("pypdf") is None:
        assert "input_file_0.pdf: no PDF library (pypdf) in this sandbox" in output
        assert "cannot be counted" in answer
    else:
        assert "input_file_0.pdf: 1 page\n" in output


def test_a_document_it_cannot_read_is_said_so(client):
    data = b"PK\x03\x04 not really a docx"
    document = types.Part.from_bytes(data=data, mime_type=DOCX)
    output, answer = generate_output(
        client.models.generate_content(model=MODEL, contents=[document, "What does it say?"])
    )
    assert (
        f"input_file_0.docx: {len(data)} bytes of {DOCX}; the offline emulator cannot read"
        in output
    )
    assert CANNOT_SEE in answer


def test_interactions_measure_image_and_document_contents(client):
    image = {
        "type": "image",
        "mime_type": "image/png",
        "data": base64.b64encode(png(30, 20, (0, 0, 255))).decode(),
    }
    text = {"type": "document", "mime_type": "text/plain", "data": base64.b64encode(TEXT).decode()}
    interaction = client.interactions.create(
        model=MODEL, input=[image, text, {"type": "text", "text": "Look at these."}]
    )
    output, answer = interaction_output(interaction)
    assert "input_file_0.png: 30 x 20 pixels, PNG RGB" in output
    assert "main colour of input_file_0.png: #0000ff" in output
    assert f"input_file_1.txt: {TEXT_FACTS}" in output
    assert CANNOT_SEE in answer


def test_interactions_read_an_uploaded_image_by_uri_beside_a_csv(client, tmp_path):
    path = tmp_path / "chart.png"
    path.write_bytes(png(50, 40, (255, 255, 0)))
    uploaded = client.files.upload(file=path, config={"mime_type": "image/png"})
    csv = base64.b64encode(b"region,sales\nnorth,10\nsouth,30\n").decode()
    interaction = client.interactions.create(
        model=MODEL,
        input=[
            {"type": "document", "mime_type": "text/csv", "data": csv},
            {"type": "image", "mime_type": "image/png", "uri": uploaded.uri},
            {"type": "text", "text": "What is the mean of sales?"},
        ],
    )
    output, answer = interaction_output(interaction)
    assert "mean of sales: 20" in output
    assert "input_file_1.png: 50 x 40 pixels" in output
    assert "mean of sales: **20**" in answer and CANNOT_SEE in answer


def test_an_expired_upload_is_refused_on_interactions(emulator, client, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(TEXT)
    uploaded = client.files.upload(file=path, config={"mime_type": "text/plain"})
    emulator.inject("expire_file")
    from google.genai import _interactions as ix

    with pytest.raises(ix.PermissionDeniedError) as caught:
        client.interactions.create(
            model=MODEL,
            input=[{"type": "document", "mime_type": "text/plain", "uri": uploaded.uri}],
        )
    assert caught.value.body["error"]["code"] == "permission_denied"
