"""PIL images and Matplotlib figures as the image files the model receives.

A PIL ``Image`` is sent as PNG, or as JPEG when it was read from a JPEG (re-saved with
its own quantisation, so nothing is lost twice); a Matplotlib ``Figure`` as a PNG at its
own dpi.  Both record their pixel size, which the model is told and the ``Sent:`` line
shows.  As with frames, a value can only be an image if PIL (or Matplotlib) is already in
``sys.modules``, so a prompt without images never imports either.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gemini_magic.errors import AttachmentError
from gemini_magic.inputs.attachment import Attachment, content_digest
from gemini_magic.text import human_size

__all__ = [
    "ImageAttachment",
    "figure_attachment",
    "image_attachment",
    "is_figure",
    "is_image",
    "pixel_size",
]


@dataclass(frozen=True, kw_only=True)
class ImageAttachment(Attachment):
    """An image (``kind="image"``) or a Matplotlib figure (``kind="figure"``).

    ``path`` is the file it was read from, for an image attached as a ``Path`` or ``-f``;
    ``width`` and ``height`` are in pixels (None only for a file PIL cannot read).
    """

    width: int | None
    height: int | None
    path: Path | None = None

    @property
    def pixels(self) -> str | None:
        """``640×480``, or None when the size is not known."""
        return f"{self.width}×{self.height}" if self.width and self.height else None

    def describe(self) -> str:
        """Which variable or file the image is, its pixel size, and where the sandbox has it."""
        what = {
            "figure": f"the Matplotlib figure `{self.name}`",
            "image": self.from_path("image file") if self.path else f"the image `{self.name}`",
        }[self.kind]
        size = f", {self.pixels} pixels" if self.pixels else ""
        return (
            f"The file `{self.filename}` is {what} ({self.mime_type}{size}).\n"
            + self.in_sandbox(f"open it with PIL.Image.open('{self.filename}')")
        )

    def summary(self) -> str:
        """``photo.png (image, 640×480, 52.1 kB)``."""
        parts = [self.kind, self.pixels, human_size(len(self.data))]
        return f"{self.filename} ({', '.join(p for p in parts if p)})"


def is_image(value: Any) -> bool:
    """True for a PIL image; PIL is not imported to find out."""
    module = sys.modules.get("PIL.Image")
    return module is not None and isinstance(value, getattr(module, "Image", ()))


def is_figure(value: Any) -> bool:
    """True for a Matplotlib figure; Matplotlib is not imported to find out."""
    module = sys.modules.get("matplotlib.figure")
    return module is not None and isinstance(value, getattr(module, "Figure", ()))


def pixel_size(data: bytes) -> tuple[int, int] | None:
    """The pixel size of encoded image bytes, read by Pillow; None if Pillow cannot tell."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError):
        return None


def image_attachment(name: str, image: Any, *, stem: str, cap: int) -> ImageAttachment:
    """``image`` (a PIL image) as PNG, or as JPEG when it came from a JPEG file."""
    jpeg = (image.format or "").upper() == "JPEG"
    buffer = io.BytesIO()
    try:
        if jpeg:
            image.save(buffer, format="JPEG", quality="keep")
        else:
            _save_png(image, buffer)
    except (OSError, ValueError) as error:
        raise AttachmentError(
            f"The image `{name}` cannot be encoded as {'JPEG' if jpeg else 'PNG'}: {error}; "
            "nothing was sent.",
            hint="Convert it first, for example with image.convert('RGB').",
        ) from error
    data = buffer.getvalue()
    _check_size(name, data, cap)
    return ImageAttachment(
        name=name,
        filename=f"{stem}.jpg" if jpeg else f"{stem}.png",
        data=data,
        mime_type="image/jpeg" if jpeg else "image/png",
        digest=content_digest(data),
        kind="image",
        value_type=f"{type(image).__module__}.{type(image).__qualname__}",
        width=image.width,
        height=image.height,
    )


def _save_png(image: Any, buffer: io.BytesIO) -> None:
    """PNG of ``image``; modes PNG cannot hold (CMYK, float, ...) are converted to RGB(A)."""
    try:
        image.save(buffer, format="PNG")
    except OSError:
        buffer.seek(0)
        buffer.truncate()
        converted = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        converted.save(buffer, format="PNG")


def figure_attachment(name: str, figure: Any, *, stem: str, cap: int) -> ImageAttachment:
    """``figure`` (a Matplotlib figure) as a PNG at its own dpi."""
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=figure.dpi)
    except (ValueError, RuntimeError, OSError) as error:
        raise AttachmentError(
            f"The figure `{name}` cannot be drawn: {type(error).__name__}: {error}; "
            "nothing was sent."
        ) from error
    data = buffer.getvalue()
    _check_size(name, data, cap)
    width, height = pixel_size(data) or (None, None)
    return ImageAttachment(
        name=name,
        filename=f"{stem}.png",
        data=data,
        mime_type="image/png",
        digest=content_digest(data),
        kind="figure",
        value_type=f"{type(figure).__module__}.{type(figure).__qualname__}",
        width=width,
        height=height,
    )


def _check_size(name: str, data: bytes, cap: int) -> None:
    if len(data) > cap:
        raise AttachmentError(
            f"`{name}` is {human_size(len(data))} as an image file, over the "
            f"{human_size(cap)} limit for one file (max_file_bytes); nothing was sent.",
            hint="Resize it first (image.resize / a smaller figsize or dpi) and attach that.",
        )
