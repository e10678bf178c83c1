"""What the analyst can measure about attachments that are not tables.

Images (pixel size, format, main colour, with Pillow), text files (lines, words,
characters), PDFs (pages, when the ``pypdf`` library is importable in the sandbox) and
anything else (its size and type, and that it cannot be read offline).  As with the
CSV analysis, this module only writes the code: the sandbox runs it, and the answer
quotes what it printed.
"""

from __future__ import annotations

from dataclasses import dataclass

from gemini_magic.emulator.wire.codec import Attachment

CANNOT_SEE = (
    "The offline emulator cannot see what an image shows or understand a document: it "
    "reports only what the code above measured."
)

_TEXT_TYPES = (
    "application/json",
    "application/xml",
    "application/x-yaml",
    "application/yaml",
    "application/javascript",
    "application/x-python",
    "application/sql",
)


@dataclass(frozen=True)
class AttachedFile:
    """A non-tabular attachment: its sandbox file name and what kind of file it is."""

    name: str
    kind: str
    """``image``, ``text``, ``pdf`` or ``other``."""
    mime_type: str


def kind_of(attachment: Attachment) -> str:
    """How the analyst treats an attachment that is not a CSV."""
    mime = attachment.mime_type.lower()
    if mime.startswith("image/"):
        return "image"
    if mime == "application/pdf":
        return "pdf"
    if mime.startswith("text/") or mime in _TEXT_TYPES:
        return "text"
    return "other"


def measuring_code(files: list[AttachedFile]) -> list[str]:
    """Lines of Python that print one fact line per measurement of ``files``.

    A file's name and type (which the request chose) enter the code only as repr()
    literals bound to ``name`` and ``mime``; the f-strings name those variables, so no
    quote, brace or newline in them can become code.
    """
    code: list[str] = []
    if any(f.kind == "image" for f in files):
        code.append("from PIL import Image")
    code.append("import os")
    for attached in files:
        code.append(f"name = {attached.name!r}")
        code.extend(_CODE[attached.kind](attached.mime_type))
    return code


def _image(mime: str) -> list[str]:
    return [
        "with Image.open(name) as im:",
        '    print(f"{name}: {im.width} x {im.height} pixels, {im.format} {im.mode}")',
        "    small = im.convert('RGB').resize((64, 64))",
        "    share, (r, g, b) = max(small.quantize(colors=8).convert('RGB').getcolors(4096))",
        '    print(f"main colour of {name}: #{r:02x}{g:02x}{b:02x} '
        '({round(100 * share / 4096)}% of the picture)")',
    ]


def _text(mime: str) -> list[str]:
    return [
        "with open(name, encoding='utf-8', errors='replace') as f:",
        "    text = f.read()",
        'print(f"{name}: {len(text.splitlines())} lines, {len(text.split())} words, '
        '{len(text)} characters")',
    ]


def _pdf(mime: str) -> list[str]:
    return [
        "try:",
        "    from pypdf import PdfReader",
        "except ImportError:",
        '    print(f"{name}: no PDF library (pypdf) in this sandbox, so its pages '
        'cannot be counted")',
        "else:",
        "    pages = len(PdfReader(name).pages)",
        "    print(f\"{name}: {pages} page{'' if pages == 1 else 's'}\")",
    ]


def _other(mime: str) -> list[str]:
    return [
        f"mime = {mime!r}",
        'print(f"{name}: {os.path.getsize(name)} bytes of {mime}; '
        'the offline emulator cannot read this kind of file")',
    ]


_CODE = {"image": _image, "text": _text, "pdf": _pdf, "other": _other}
