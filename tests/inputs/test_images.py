"""Images and figures attached: PIL images, Matplotlib figures, image files.

Real objects throughout: images made in memory with Pillow, a real Figure on the Agg
canvas.  The last tests go through %%gemini on both APIs and read the request log.
"""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from PIL import Image

from gemini_magic.errors import AttachmentError
from gemini_magic.inputs.images import ImageAttachment
from gemini_magic.inputs.prompt import Limits, prepare_prompt
from tests.helpers.inputs import only
from tests.helpers.magic import run_cell
from tests.helpers.wire import media, prompt_requests

# --- images and figures -------------------------------------------------------------------


def test_a_pil_image_is_sent_as_png_at_its_pixel_size() -> None:
    photo = Image.new("RGB", (64, 48), "red")
    prepared = prepare_prompt("Count the shapes in {photo}", {"photo": photo})
    (attachment,) = prepared.attachments
    assert isinstance(attachment, ImageAttachment)
    assert (attachment.kind, attachment.mime_type, attachment.filename) == (
        "image",
        "image/png",
        "photo.png",
    )
    assert (attachment.width, attachment.height) == (64, 48)
    assert prepared.text == "Count the shapes in photo.png"
    with Image.open(io.BytesIO(attachment.data)) as back:
        assert (back.format, back.size, back.getpixel((5, 5))) == ("PNG", (64, 48), (255, 0, 0))
    size = len(attachment.data)
    assert attachment.summary() == f"photo.png (image, 64×48, {size} B)"
    assert prepared.sent_summary() == (
        f"Sent: photo.png (image, 64×48, {size} B) and the prompt text (29 characters)."
    )
    text = attachment.describe()
    assert "`photo.png` is the image `photo` (image/png, 64×48 pixels)" in text
    assert "PIL.Image.open('photo.png')" in text
    assert attachment.sandbox_names == ("photo.png", "input_file_0.png")


def test_an_image_read_from_a_jpeg_stays_a_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "cat.jpg"
    Image.new("RGB", (40, 30), "green").save(path, format="JPEG")
    with Image.open(path) as photo:
        attachment = only("{photo}", {"photo": photo})
    assert (attachment.filename, attachment.mime_type) == ("photo.jpg", "image/jpeg")
    with Image.open(io.BytesIO(attachment.data)) as back:
        assert (back.format, back.size) == ("JPEG", (40, 30))


def test_an_image_in_a_mode_png_cannot_hold_is_converted() -> None:
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))
    attachment = only("{c}", {"c": cmyk})
    with Image.open(io.BytesIO(attachment.data)) as back:
        assert (back.format, back.mode) == ("PNG", "RGB")
        assert back.getpixel((0, 0)) == (255, 0, 0)


def test_a_figure_is_a_png_at_its_dpi() -> None:
    figure = Figure(figsize=(4, 3), dpi=50)
    figure.subplots().plot([1, 3, 2])
    attachment = only("Improve {fig}", {"fig": figure})
    assert (attachment.kind, attachment.filename, attachment.mime_type) == (
        "figure",
        "fig.png",
        "image/png",
    )
    assert (attachment.width, attachment.height) == (200, 150)
    with Image.open(io.BytesIO(attachment.data)) as back:
        assert back.size == (200, 150)
    assert attachment.summary().startswith("fig.png (figure, 200×150, ")
    assert "the Matplotlib figure `fig` (image/png, 200×150 pixels)" in attachment.describe()
    assert attachment.value_type == "matplotlib.figure.Figure"


def test_an_image_over_the_per_file_cap_is_refused_with_its_size() -> None:
    noisy = Image.effect_noise((300, 300), 100)
    with pytest.raises(AttachmentError) as caught:
        prepare_prompt("{noise}", {"noise": noisy}, limits=Limits(max_file_bytes=10_000))
    assert type(caught.value) is AttachmentError
    assert "`noise` is " in caught.value.message
    assert "over the 10.0 kB limit for one file (max_file_bytes)" in caught.value.message
    assert "Resize" in caught.value.hint


def test_images_and_figures_named_without_braces_get_a_hint() -> None:
    namespace = {"photo": Image.new("L", (2, 2)), "fig": Figure()}
    prepared = prepare_prompt("what is in photo and fig?", namespace)
    assert prepared.attachments == ()
    assert prepared.hints == (
        "`photo` is an image here: write `{photo}` to attach it.",
        "`fig` is a Matplotlib figure here: write `{fig}` to attach it.",
    )


def test_a_prompt_with_paths_imports_no_image_or_data_library(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from gemini_magic.inputs.prompt import prepare_prompt
        p = prepare_prompt("{{n}} {{x}}", {{"n": Path({str(tmp_path / "notes.txt")!r}), "x": 1}})
        heavy = [m for m in ("PIL", "matplotlib", "pandas", "numpy") if m in sys.modules]
        print(p.text, heavy)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "notes.txt 1 []"


# --- through %%gemini, on both APIs ------------------------------------------------------


def test_a_pil_image_goes_as_an_image_at_its_pixel_size(any_api, emulator):
    any_api.user_ns["photo"] = Image.new("RGB", (64, 48), (200, 30, 30))
    run = run_cell(any_api, "%%gemini\nWhat colour is {photo}?")
    assert run.success, run.error
    ((mime, data),) = media(prompt_requests(emulator)[-1])
    assert mime == "image/png"
    assert Image.open(io.BytesIO(data)).size == (64, 48)
    assert "photo.png (image, 64×48" in run.all_text()


def test_a_matplotlib_figure_goes_as_a_png_at_its_dpi(any_api, emulator):
    figure, axes = plt.subplots(figsize=(2, 1), dpi=50)
    axes.plot([1, 2, 3])
    any_api.user_ns["fig"] = figure
    assert run_cell(any_api, "%%gemini\nDescribe {fig}.").success
    ((mime, data),) = media(prompt_requests(emulator)[-1])
    assert mime == "image/png"
    assert Image.open(io.BytesIO(data)).size == (100, 50)
    plt.close(figure)
