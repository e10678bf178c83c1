"""A ``%%gemini`` cell's prompt as it will be sent: text with placeholders, and its files.

A prompt names what it sends, and each value goes by its type: ``{sales}`` attaches the
DataFrame as ``sales.csv`` (the placeholder becomes that file name), a PIL image or a
Matplotlib figure as an image, a ``pathlib.Path`` as the file it points to; ``-f PATH``
attaches a file by path and ``--error`` the kernel's last exception; any other object is
pasted into the prompt as its ``str()``.  Nothing the prompt does not name leaves the
machine, nothing is sampled silently, and every bad reference, file or size is an error
before anything is sent.  Pure functions of the template, the namespace and the files: no
SDK, no network, and no data library imported unless the prompt holds one of its values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from gemini_magic.errors import AttachmentError, UsageError
from gemini_magic.inputs.attachment import Attachment, PreparedPrompt
from gemini_magic.inputs.error import LastError, error_attachment
from gemini_magic.inputs.files import file_attachment
from gemini_magic.inputs.frames import encode_frame, frame_kind
from gemini_magic.inputs.images import figure_attachment, image_attachment, is_figure, is_image
from gemini_magic.inputs.references import Reference, parse_template, resolve
from gemini_magic.settings import Limits
from gemini_magic.text import human_size

__all__ = ["Limits", "PreparedPrompt", "prepare_prompt"]

DEFAULT_LIMITS = Limits()


def prepare_prompt(
    template: str,
    namespace: Mapping[str, Any],
    *,
    limits: Limits = DEFAULT_LIMITS,
    sample: int | None = None,
    seed: int = 0,
    files: Sequence[str | os.PathLike[str]] = (),
    last_error: LastError | None = None,
    cwd: Path | None = None,
) -> PreparedPrompt:
    """Resolve ``template``'s references against ``namespace`` into a sendable prompt.

    Attachments come in this order: the ``files`` (``-f``, relative to ``cwd``, the
    kernel's working folder), then ``last_error``, then the references in prompt order.
    Every reference is resolved before any of them is encoded, so a typo fails at once.
    ``sample`` (``--sample N``) applies to every attached frame with more than N rows.
    """
    if not template.strip():
        raise UsageError(
            "The prompt is empty.", hint="Write a question in the cell, below the %%gemini line."
        )
    if len(template) > limits.max_prompt_chars:
        raise UsageError(
            f"The prompt is {len(template):,} characters; the limit is "
            f"{limits.max_prompt_chars:,} (max_prompt_chars).",
            hint="Put large data in a DataFrame and reference it as {name}: it is attached "
            "as a CSV file instead of pasted into the prompt.",
        )
    if sample is not None and sample < 1:
        raise UsageError(f"--sample must be a positive number of rows, not {sample}.")

    pieces = parse_template(template)
    references = [p for p in pieces if isinstance(p, Reference)]
    values = {ref.canonical: resolve(ref, namespace) for ref in references}
    folder = cwd if cwd is not None else Path.cwd()
    builder = _Builder(limits)
    for path in files:
        builder.add(
            file_attachment(
                os.fsdecode(path), path, cwd=folder, cap=limits.max_file_bytes, value_type=None
            )
        )
    if last_error is not None:
        builder.add(error_attachment(last_error))

    out: list[str] = []
    attached: dict[str, Attachment | None] = {}  # one attachment per reference
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        value = values[piece.canonical]
        if piece.canonical not in attached:
            # A frame, the common case, is encoded right here: no call stands between.
            kind = frame_kind(value)
            made = (
                encode_frame(
                    piece.text,
                    value,
                    kind,
                    filename=f"{piece.stem}.csv",
                    column=piece.last_name,
                    cap=limits.max_attachment_bytes,
                    sample=sample,
                    seed=seed,
                )
                if kind is not None
                else _attach(piece, value, limits, folder)
            )
            attached[piece.canonical] = None if made is None else builder.add(made)
        attachment = attached[piece.canonical]
        out.append(attachment.filename if attachment else _inline(piece.text, value, limits))

    text = "".join(out)
    if len(text) > limits.max_prompt_chars:
        raise UsageError(
            f"With its references pasted in, the prompt is {len(text):,} characters; the "
            f"limit is {limits.max_prompt_chars:,} (max_prompt_chars).",
            hint="Reference large data as a DataFrame so it is attached as a file.",
        )
    literal = " ".join(p for p in pieces if isinstance(p, str))
    hints = _hints(literal, namespace, {ref.head for ref in references})
    return PreparedPrompt(text=text, attachments=tuple(builder.attachments), hints=hints)


class _Builder:
    """Collects a prompt's attachments: unique names, no file twice, the request cap."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.attachments: list[Attachment] = []
        self._by_path: dict[Path, Attachment] = {}
        self._total = 0

    def add(self, attachment: Attachment) -> Attachment:
        """Number ``attachment``, give it a file name no other one has, and count its size.

        A file already attached (the same path by ``-f`` and by a ``Path``) is not sent twice.
        """
        path = getattr(attachment, "path", None)
        if path is not None and path in self._by_path:
            return self._by_path[path]
        self._total += len(attachment.data)
        if self._total > self.limits.max_request_bytes:
            sizes = ", ".join(
                f"{a.filename} {human_size(len(a.data))}" for a in [*self.attachments, attachment]
            )
            raise AttachmentError(
                f"The attachments of this prompt are {human_size(self._total)} together, over "
                f"the {human_size(self.limits.max_request_bytes)} limit for one request "
                "(max_request_bytes); nothing was sent.",
                hint=f"Attach fewer or smaller files across several prompts ({sizes}).",
            )
        used = {a.filename for a in self.attachments}
        attachment = replace(
            attachment,
            filename=_unique(attachment.filename, used),
            position=len(self.attachments),
        )
        self.attachments.append(attachment)
        if path is not None:
            self._by_path[path] = attachment
        return attachment


def _attach(ref: Reference, value: Any, limits: Limits, cwd: Path) -> Attachment | None:
    """The attachment a value other than a frame makes by its type, or None for a value
    pasted as str()."""
    if is_image(value):
        return image_attachment(ref.text, value, stem=ref.stem, cap=limits.max_file_bytes)
    if is_figure(value):
        return figure_attachment(ref.text, value, stem=ref.stem, cap=limits.max_file_bytes)
    if isinstance(value, os.PathLike):
        return file_attachment(
            ref.text, value, cwd=cwd, cap=limits.max_file_bytes, value_type=_type_name(value)
        )
    return None


def _unique(filename: str, used: set[str]) -> str:
    """``filename``, or ``stem_2.ext`` (``_3``...) when another attachment has that name."""
    if filename not in used:
        return filename
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    n = 2
    while f"{stem}_{n}{dot}{ext}" in used:
        n += 1
    return f"{stem}_{n}{dot}{ext}"


def _type_name(value: Any) -> str:
    return f"{type(value).__module__}.{type(value).__qualname__}"


def _inline(name: str, value: Any, limits: Limits) -> str:
    """``str(value)`` for the prompt, cut with a visible note past ``max_inline_chars``."""
    try:
        text = str(value)
    except Exception as error:
        raise AttachmentError(
            f"`str({name})` raised {type(error).__name__}: {error}; it cannot be put in the prompt."
        ) from error
    limit = limits.max_inline_chars
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [cut: {len(text) - limit:,} more characters of str({name})]"


_LABELS = {
    "pandas.DataFrame": "a DataFrame",
    "pandas.Series": "a Series",
    "polars.DataFrame": "a polars DataFrame",
}


def _hints(literal: str, namespace: Mapping[str, Any], referenced: set[str]) -> tuple[str, ...]:
    """Hints for attachable values the prompt names without braces (so nothing is sent)."""
    hints = []
    for name, value in namespace.items():
        if not isinstance(name, str) or name.startswith("_") or name in referenced:
            continue
        label = _label(value)
        if label is None or not re.search(rf"\b{re.escape(name)}\b", literal):
            continue
        hints.append(f"`{name}` is {label} here: write `{{{name}}}` to attach it.")
    return tuple(hints)


def _label(value: Any) -> str | None:
    kind = frame_kind(value)
    if kind is not None:
        return _LABELS[kind]
    if is_image(value):
        return "an image"
    if is_figure(value):
        return "a Matplotlib figure"
    if isinstance(value, os.PathLike):
        return "a path"
    return None
