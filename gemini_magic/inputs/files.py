"""Files on disk as attachments: a ``Path`` in the prompt, or ``-f PATH``.

Only what the user names as a path is read: a ``pathlib.Path`` (any ``os.PathLike``) in a
reference, or a ``-f`` option; a ``str`` never is.  The MIME type comes from the extension,
from the types the Gemini API takes: text and source code (sent as ``text/plain`` unless the
API documents a more specific type: ``text/markdown``, ``application/json``, ``text/x-python``,
...), images, and documents (the MIME types of the
Interactions API's ``document`` content).  Every problem is found before anything is sent:
no such file, a folder, unreadable, empty, an unsupported type, over the per-file cap.
"""

from __future__ import annotations

import csv
import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from gemini_magic.errors import FileAttachmentError
from gemini_magic.inputs.attachment import Attachment, content_digest
from gemini_magic.inputs.images import ImageAttachment, pixel_size
from gemini_magic.text import count, human_size

__all__ = ["FILE_TYPES", "FileAttachment", "file_attachment"]

# Source and text types the API takes as text/plain (no more specific type is documented).
# fmt: off
_PLAIN_TEXT = (
    ".txt", ".rst", ".log", ".tsv", ".jsonl", ".ipynb", ".yaml", ".yml", ".toml", ".ini",
    ".cfg", ".tsx", ".jsx", ".cpp", ".cc", ".cxx", ".hpp", ".c", ".h", ".java", ".kt", ".scala",
    ".go", ".rs", ".rb", ".php", ".swift", ".cs", ".sql", ".sh", ".r", ".jl", ".tex",
)
# fmt: on
#: The text types the Gemini API documents (each file goes with its own type).
_TEXT_TYPES = {
    ".csv": "text/csv",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".json": "application/json",
    ".ts": "text/x-typescript",
    ".py": "text/x-python",
    ".js": "text/javascript",
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".xml": "text/xml",
    ".rtf": "text/rtf",
} | dict.fromkeys(_PLAIN_TEXT, "text/plain")
_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".bmp": "image/bmp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
}
_OFFICE = "application/vnd.openxmlformats-officedocument."
_DOCUMENT_TYPES = {
    ".pdf": "application/pdf",
    ".docx": _OFFICE + "wordprocessingml.document",
    ".dotx": _OFFICE + "wordprocessingml.template",
    ".doc": "application/msword",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".xlsx": _OFFICE + "spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".pptx": _OFFICE + "presentationml.presentation",
    ".ppt": "application/vnd.ms-powerpoint",
    ".odp": "application/vnd.oasis.opendocument.presentation",
}
#: Extension -> (MIME type, kind) for every file type that can be attached.
FILE_TYPES: dict[str, tuple[str, str]] = (
    {ext: (mime, "file") for ext, mime in _TEXT_TYPES.items()}
    | {ext: (mime, "image") for ext, mime in _IMAGE_TYPES.items()}
    | {ext: (mime, "document") for ext, mime in _DOCUMENT_TYPES.items()}
)
_SUPPORTED = (
    f"text and code ({' '.join(_TEXT_TYPES)}), images ({' '.join(_IMAGE_TYPES)}), "
    f"documents ({' '.join(_DOCUMENT_TYPES)})"
)


@dataclass(frozen=True, kw_only=True)
class FileAttachment(Attachment):
    """A text, source or document file (``kind`` ``file`` or ``document``) read from ``path``.

    ``rows`` and ``columns`` are set for a ``.csv`` file (counted by Python's csv module,
    header excluded), ``column_names`` from its header row.
    """

    path: Path
    rows: int | None = None
    columns: int | None = None
    column_names: tuple[str, ...] = ()

    def describe(self) -> str:
        """Which file it is, its shape for a CSV, and how the sandbox reads it."""
        if self.kind == "document":
            return (
                f"The file `{self.filename}` is {self.from_path('document')} ({self.mime_type}, "
                f"{human_size(len(self.data))}). Read it directly: the code-execution sandbox "
                "may not hold documents."
            )
        if self.rows is None or self.columns is None:
            lines_in_file = self.data.count(b"\n") + (not self.data.endswith(b"\n"))
            lines = [
                f"The file `{self.filename}` is {self.from_path('text file')} "
                f"({count(lines_in_file, 'line')}).",
                self.in_sandbox(f"read it with open('{self.filename}')"),
            ]
        else:
            lines = [
                f"The file `{self.filename}` is {self.from_path('CSV file')}: "
                f"{count(self.rows, 'row')} × {count(self.columns, 'column')}.",
                self.in_sandbox(f"load it with pandas.read_csv('{self.filename}')"),
                "Columns: " + ", ".join(self.column_names) + ".",
            ]
        return "\n".join(lines)

    def summary(self) -> str:
        """``notes.txt (file, 1.2 kB)``, ``sales.csv (CSV file, 3 rows × 2 columns, 40 B)``."""
        size = human_size(len(self.data))
        if self.rows is not None and self.columns is not None:
            shape = f"{count(self.rows, 'row')} × {count(self.columns, 'column')}"
            return f"{self.filename} (CSV file, {shape}, {size})"
        return f"{self.filename} ({self.kind}, {size})"


def file_attachment(
    name: str,
    path: str | os.PathLike[str],
    *,
    cwd: Path,
    cap: int,
    value_type: str | None,
) -> Attachment:
    """The file at ``path`` (relative to ``cwd``), named ``name`` in messages.

    Raises FileAttachmentError for a path that is missing, a folder, not a regular file,
    unreadable, empty, of an unsupported type, over ``cap`` bytes, or text that is not UTF-8.
    """
    full = Path(os.fsdecode(path)).expanduser()
    full = full if full.is_absolute() else cwd / full
    try:
        info = full.stat()
    except FileNotFoundError:
        raise FileAttachmentError(
            f"`{name}`: there is no file {full}; nothing was sent.",
            hint=f"A relative path starts in the kernel's working folder, {cwd}.",
        ) from None
    except OSError as error:
        raise _unreadable(name, full, error) from None
    if stat.S_ISDIR(info.st_mode):
        raise FileAttachmentError(
            f"`{name}`: {full} is a folder, not a file; nothing was sent.",
            hint="Attach the files in it one by one (-f each, or a Path per file).",
        )
    if not stat.S_ISREG(info.st_mode):
        raise FileAttachmentError(f"`{name}`: {full} is not a regular file; nothing was sent.")
    ext = full.suffix.lower()
    if ext not in FILE_TYPES:
        what = f"a {ext} file" if ext else "a file without an extension"
        raise FileAttachmentError(
            f"`{name}`: {full.name} is {what}, which cannot be attached; nothing was sent.",
            hint=f"Supported: {_SUPPORTED}.",
        )
    if info.st_size == 0:
        raise FileAttachmentError(f"`{name}`: {full} is empty (0 bytes); nothing was sent.")
    if info.st_size > cap:
        raise FileAttachmentError(
            f"`{name}`: {full.name} is {human_size(info.st_size)}, over the "
            f"{human_size(cap)} limit for one file (max_file_bytes); nothing was sent.",
            hint="Attach a smaller part of it (for a CSV: read it with pandas and reference "
            "the frame with --sample N), or raise max_file_bytes.",
        )
    try:
        data = full.read_bytes()
    except OSError as error:
        raise _unreadable(name, full, error) from None
    mime, kind = FILE_TYPES[ext]
    common = {
        "name": name,
        "filename": full.name,
        "data": data,
        "mime_type": mime,
        "digest": content_digest(data),
        "kind": kind,
        "value_type": value_type,
        "path": full,
    }
    if kind == "image":
        width, height = pixel_size(data) or (None, None)
        return ImageAttachment(**common, width=width, height=height)
    if kind == "document":
        return FileAttachment(**common)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileAttachmentError(
            f"`{name}`: {full.name} is not UTF-8 text (byte {error.start:,} cannot be "
            "decoded); nothing was sent.",
            hint="Save it as UTF-8 and attach it again.",
        ) from None
    return FileAttachment(**common, **(_csv_shape(text) if ext == ".csv" else {}))


def _csv_shape(text: str) -> dict[str, object]:
    """Rows, columns and header of CSV text, counted by Python's csv module (no pandas)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        rows = sum(1 for row in reader if row)
    except csv.Error:  # not CSV after all: it is sent as it is, without a shape
        return {}
    return {"rows": rows, "columns": len(header), "column_names": tuple(header)}


def _unreadable(name: str, path: Path, error: OSError) -> FileAttachmentError:
    return FileAttachmentError(
        f"`{name}`: {path} cannot be read ({error.strerror or error}); nothing was sent.",
        hint="Check the file's permissions.",
    )
