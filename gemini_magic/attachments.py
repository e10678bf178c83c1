"""What a ``%%gemini`` prompt sends: its text with placeholders, and the files it attaches.

A prompt names what it sends: ``{sales}`` attaches the DataFrame ``sales`` as the file
``sales.csv`` (the placeholder becomes that file name), ``{obj.frame}`` follows attribute
paths, and any other object is pasted into the prompt as its ``str()``.  Nothing the prompt
does not name leaves the machine, and nothing is sampled silently: a frame over the size cap
is refused with its size, unless the user asks for ``--sample N`` explicitly.

Everything here is a pure function of the template and the namespace: no SDK, no network.
References are parsed by :mod:`gemini_magic.references`, frames written by
:mod:`gemini_magic.csv_encoding`; neither imports a data library before it sees a frame.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gemini_magic.csv_encoding import encode_frame, frame_kind
from gemini_magic.errors import AttachmentError, UsageError
from gemini_magic.formatting import count, human_size
from gemini_magic.references import Reference, parse_template, resolve

__all__ = ["Attachment", "PreparedPrompt", "prepare_prompt"]

# Column types listed in the model's description before the rest are only counted.
_DESCRIBED_COLUMNS = 100


@dataclass(frozen=True)
class Attachment:
    """One DataFrame or Series as the CSV file the model receives.

    ``columns`` counts the frame's own columns; ``index_columns`` counts the index levels
    written before them (0 when the index is a default 0..n-1 range that says nothing).
    ``column_types`` lists every CSV column, index columns first, in file order.
    ``requested_sample`` is the ``--sample N`` in force, so the summary can say when a
    frame was small enough to go whole.
    """

    name: str
    filename: str
    data: bytes
    rows: int
    columns: int
    kind: str
    column_types: tuple[tuple[str, str], ...]
    total_rows: int
    digest: str
    mime_type: str = "text/csv"
    index_columns: int = 0
    requested_sample: int | None = None

    @property
    def sampled(self) -> bool:
        """True when fewer rows were sent than the object holds."""
        return self.rows < self.total_rows

    def describe(self) -> str:
        """The text part that tells the model which file holds which variable.

        The model sees only files, so it needs the mapping from file to variable name, the
        shape it should expect after loading, and whether it is looking at a sample (so it
        does not report a sample's totals as the data's).
        """
        label = self.kind.replace("pandas.", "pandas ").replace("polars.", "polars ")
        lines = [
            f"The file `{self.filename}` holds the {label} `{self.name}` as CSV: "
            f"{count(self.rows, 'row')} × {count(self.columns, 'column')}"
            + (
                f" plus {count(self.index_columns, 'index column')} first"
                if self.index_columns
                else ""
            )
            + ".",
            "It is in the working directory of the code-execution sandbox (if that name is "
            "missing there, it is the matching input_file_N.csv, numbered in the order the "
            f"files were attached); load it with pandas.read_csv('{self.filename}').",
        ]
        if self.sampled:
            lines.append(
                f"This is a seeded random sample of {self.rows:,} of its {self.total_rows:,} "
                "rows, in their original order; the other rows were not sent, so totals and "
                "counts computed from it describe the sample, not the whole data."
            )
        shown = ", ".join(
            f"{col}: {dtype}" for col, dtype in self.column_types[:_DESCRIBED_COLUMNS]
        )
        more = len(self.column_types) - _DESCRIBED_COLUMNS
        if not self.column_types:
            lines.append("It has no columns.")
        else:
            lines.append(
                f"Columns (name: type): {shown}" + (f", … and {more:,} more." if more > 0 else ".")
            )
        return "\n".join(lines)

    def summary(self) -> str:
        """``sales.csv (120 rows × 4 columns, 5.2 kB)``: what was sent, for the user."""
        shape = f"{count(self.rows, 'row')} × {count(self.columns, 'column')}"
        if self.index_columns:
            shape += " + index"
        text = f"{self.filename} ({shape}, {human_size(len(self.data))}"
        if self.sampled:
            text += f", sample of {self.rows:,} of {self.total_rows:,} rows"
        elif self.requested_sample is not None:
            text += f", whole: it has no more than --sample {self.requested_sample:,} rows"
        return text + ")"


@dataclass(frozen=True)
class PreparedPrompt:
    """The prompt as it will be sent: text with placeholders, the files, and the hints."""

    text: str
    attachments: tuple[Attachment, ...]
    hints: tuple[str, ...]

    def sent_summary(self) -> str:
        """The one line that says exactly what left the machine with this prompt."""
        prompt = f"the prompt text ({count(len(self.text), 'character')})"
        if not self.attachments:
            return f"Sent: {prompt}, no attachments."
        files = ", ".join(a.summary() for a in self.attachments)
        return f"Sent: {files} and {prompt}."


def prepare_prompt(
    template: str,
    namespace: Mapping[str, Any],
    *,
    max_attachment_bytes: int = 2_000_000,
    max_inline_chars: int = 20_000,
    max_prompt_chars: int = 1_000_000,
    sample: int | None = None,
    seed: int = 0,
) -> PreparedPrompt:
    """Resolve the references of ``template`` against ``namespace`` into a sendable prompt.

    Every reference is resolved before any CSV is built, so a typo fails at once and
    nothing is sent.  ``sample`` (``--sample N``) applies to every attached frame with more
    than N rows; the default cap of 2,000,000 bytes is about what fills a 1M-token window.
    """
    if not template.strip():
        raise UsageError(
            "The prompt is empty.", hint="Write a question in the cell, below the %%gemini line."
        )
    if len(template) > max_prompt_chars:
        raise UsageError(
            f"The prompt is {len(template):,} characters; the limit is {max_prompt_chars:,} "
            "(max_prompt_chars).",
            hint="Put large data in a DataFrame and reference it as {name}: it is attached "
            "as a CSV file instead of pasted into the prompt.",
        )
    if sample is not None and sample < 1:
        raise UsageError(f"--sample must be a positive number of rows, not {sample}.")

    pieces = parse_template(template)
    references = [p for p in pieces if isinstance(p, Reference)]
    values = {ref.name: resolve(ref.name, namespace) for ref in references}

    attachments: dict[str, Attachment] = {}
    out: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        value = values[piece.name]
        kind = frame_kind(value)
        if kind is None:
            out.append(_inline(piece.name, value, max_inline_chars))
            continue
        if piece.name not in attachments:
            attachments[piece.name] = _attach(
                piece.name, value, kind, cap=max_attachment_bytes, sample=sample, seed=seed
            )
        out.append(attachments[piece.name].filename)

    text = "".join(out)
    if len(text) > max_prompt_chars:
        raise UsageError(
            f"With its references pasted in, the prompt is {len(text):,} characters; the "
            f"limit is {max_prompt_chars:,} (max_prompt_chars).",
            hint="Reference large data as a DataFrame so it is attached as a file.",
        )
    literal = " ".join(p for p in pieces if isinstance(p, str))
    hints = _frame_hints(literal, namespace, {ref.name.split(".")[0] for ref in references})
    return PreparedPrompt(text=text, attachments=tuple(attachments.values()), hints=hints)


def _inline(name: str, value: Any, limit: int) -> str:
    """``str(value)`` for the prompt, cut with a visible note past ``limit`` characters."""
    try:
        text = str(value)
    except Exception as error:
        raise AttachmentError(
            f"`str({name})` raised {type(error).__name__}: {error}; it cannot be put in the prompt."
        ) from error
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [cut: {len(text) - limit:,} more characters of str({name})]"


def _frame_hints(
    literal: str, namespace: Mapping[str, Any], referenced: set[str]
) -> tuple[str, ...]:
    """Hints for frames the prompt mentions by name without braces (so nothing is sent)."""
    hints = []
    for name, value in namespace.items():
        if not isinstance(name, str) or name.startswith("_") or name in referenced:
            continue
        kind = frame_kind(value)
        if kind is None or not re.search(rf"\b{re.escape(name)}\b", literal):
            continue
        label = {
            "pandas.DataFrame": "a DataFrame",
            "pandas.Series": "a Series",
            "polars.DataFrame": "a polars DataFrame",
        }[kind]
        hints.append(f"`{name}` is {label} here: write `{{{name}}}` to attach it.")
    return tuple(hints)


def _attach(
    name: str, obj: Any, kind: str, *, cap: int, sample: int | None, seed: int
) -> Attachment:
    """Turn one referenced frame into an Attachment, refusing it when over ``cap``."""
    csv = encode_frame(name, obj, kind, cap=cap, sample=sample, seed=seed)
    return Attachment(
        name=name,
        filename=f"{name}.csv",
        data=csv.data,
        rows=csv.rows,
        columns=csv.columns,
        kind=kind,
        column_types=csv.column_types,
        total_rows=csv.total_rows,
        digest=csv.digest,
        index_columns=csv.index_columns,
        requested_sample=sample,
    )
