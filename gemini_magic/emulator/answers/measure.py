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
    """Lines of Python that print one fact line per measurement of ``files``."""
    code: list[str] = []
    if any(f.kind == "image" for f in files):
        code.append("from PIL import Image")
    code.append("import os")
    for attached in files:
        code.extend(_CODE[attached.kind](attached.name, attached.mime_type))
    return code


def _image(name: str, mime: str) -> list[str]:
    return [
        f"with Image.open({name!r}) as im:",
        f'    print(f"{name}: {{im.width}} x {{im.height}} pixels, {{im.format}} {{im.mode}}")',
        "    small = im.convert('RGB').resize((64, 64))",
        "    share, (r, g, b) = max(small.quantize(colors=8).convert('RGB').getcolors(4096))",
        f'    print(f"main colour of {name}: #{{r:02x}}{{g:02x}}{{b:02x}} '
        f'({{round(100 * share / 4096)}}% of the picture)")',
    ]


def _text(name: str, mime: str) -> list[str]:
    return [
        f"with open({name!r}, encoding='utf-8', errors='replace') as f:",
        "    text = f.read()",
        f'print(f"{name}: {{len(text.splitlines())}} lines, {{len(text.split())}} words, '
        f'{{len(text)}} characters")',
    ]


def _pdf(name: str, mime: str) -> list[str]:
    return [
        "try:",
        "    from pypdf import PdfReader",
        "except ImportError:",
        f'    print("{name}: no PDF library (pypdf) in this sandbox, so its pages '
        'cannot be counted")',
        "else:",
        f"    pages = len(PdfReader({name!r}).pages)",
        f"    print(f\"{name}: {{pages}} page{{'' if pages == 1 else 's'}}\")",
    ]


def _other(name: str, mime: str) -> list[str]:
    return [
        f'print(f"{name}: {{os.path.getsize({name!r})}} bytes of {mime}; '
        'the offline emulator cannot read this kind of file")',
    ]


_CODE = {"image": _image, "text": _text, "pdf": _pdf, "other": _other}
