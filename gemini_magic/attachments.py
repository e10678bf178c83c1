"""``{name}`` references in a ``%%gemini`` prompt, and the DataFrames they attach.

A prompt names what it sends: ``{sales}`` attaches the DataFrame ``sales`` as the file
``sales.csv`` (the placeholder becomes that file name), ``{obj.frame}`` follows attribute
paths, and any other object is pasted into the prompt as its ``str()``.  Nothing the prompt
does not name leaves the machine, and nothing is sampled silently: a frame over the size cap
is refused with its size, unless the user asks for ``--sample N`` explicitly.

Everything here is a pure function of the template and the namespace: no SDK, no network.
pandas, pyarrow and polars are imported inside the functions that need them, so that
``%load_ext gemini_magic`` stays light; a user object can only be a pandas or polars frame if
that library is already in ``sys.modules``, which is how frames are recognised.
"""

from __future__ import annotations

import difflib
import hashlib
import keyword
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gemini_magic.errors import AttachmentError, ReferenceNotFound, UsageError

__all__ = [
    "Attachment",
    "PreparedPrompt",
    "frame_digest",
    "prepare_prompt",
    "reference_names",
    "to_csv_bytes",
]

# ``{{`` / ``}}`` are literal braces; ``{...}`` on one line is a reference; any other brace
# is unbalanced.  One tokenizer serves the strict parser and the lenient name lister.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]*)\}|[{}]")
_LITERAL_BRACES = "Write `{{` and `}}` for literal braces."

# Rows written to estimate a frame's CSV size before building all of it, and the margin
# over the cap at which the estimate alone is trusted to refuse.
_ESTIMATE_ROWS = 2_000
_ESTIMATE_CELLS = 200_000
_CLEARLY_OVER = 1.2

# Column types listed in the model's description before the rest are only counted.
_DESCRIBED_COLUMNS = 100

# Characters that force pyarrow to quote string values.
_STRUCTURAL = r'[,"\r\n]'

_MASKED_DTYPE = re.compile(r"U?Int(8|16|32|64)|Float(32|64)|boolean")


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
            f"{_count(self.rows, 'row')} × {_count(self.columns, 'column')}"
            + (
                f" plus {_count(self.index_columns, 'index column')} first"
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
        shape = f"{_count(self.rows, 'row')} × {_count(self.columns, 'column')}"
        if self.index_columns:
            shape += " + index"
        text = f"{self.filename} ({shape}, {_format_size(len(self.data))}"
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
        prompt = f"the prompt text ({_count(len(self.text), 'character')})"
        if not self.attachments:
            return f"Sent: {prompt}, no attachments."
        files = ", ".join(a.summary() for a in self.attachments)
        return f"Sent: {files} and {prompt}."


@dataclass(frozen=True)
class _Reference:
    name: str
    position: int


def reference_names(template: str) -> list[str]:
    """The distinct ``{name}`` references of ``template``, in order of first use.

    Lenient on purpose: the kernel asks while the user is still typing, so an unclosed
    brace or ``{1+2}`` is skipped here rather than reported (``prepare_prompt`` reports it).
    """
    names: dict[str, None] = {}
    for match in _TOKEN.finditer(template):
        content = match.group(1)
        if content is not None and _is_reference(content):
            names.setdefault(content, None)
    return list(names)


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

    pieces = _parse(template)
    references = [p for p in pieces if isinstance(p, _Reference)]
    values = {ref.name: _resolve(ref.name, namespace) for ref in references}

    attachments: dict[str, Attachment] = {}
    out: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        value = values[piece.name]
        kind = _frame_kind(value)
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


def to_csv_bytes(obj: Any) -> bytes:
    """The whole of a pandas DataFrame / Series or polars DataFrame as UTF-8 CSV.

    The index is written when it carries information; no size cap, no sampling.
    """
    kind = _frame_kind(obj)
    if kind is None:
        raise TypeError(f"to_csv_bytes needs a DataFrame or Series, not {type(obj).__name__}")
    if kind == "polars.DataFrame":
        return _polars_csv(obj, "object")
    table, _ = _csv_table(obj, name="value", keep_index=_index_carries_information(obj.index))
    return _pandas_csv(table)[0]


def frame_digest(obj: Any) -> str:
    """A content hash of a frame for the upload cache (hex).

    ``hash_pandas_object`` hashes values and index in vectorised code, far cheaper than
    hashing the CSV; column names and dtypes are mixed in because they change the file
    without changing the hashed values.  Cells that cannot be hashed (lists, dicts, lone
    surrogates) fall back to hashing the CSV bytes.
    """
    kind = _frame_kind(obj)
    if kind is None:
        raise TypeError(f"frame_digest needs a DataFrame or Series, not {type(obj).__name__}")
    h = hashlib.blake2b(digest_size=20)
    h.update(kind.encode())
    if kind == "polars.DataFrame":
        import polars as pl

        h.update(repr(list(obj.schema.items())).encode())
        try:
            h.update(obj.hash_rows(seed=0).to_numpy().tobytes())
        except pl.exceptions.PolarsError:
            h.update(to_csv_bytes(obj))
        return h.hexdigest()

    import pandas as pd

    columns = list(obj.columns) if kind == "pandas.DataFrame" else [obj.name]
    dtypes = list(obj.dtypes) if kind == "pandas.DataFrame" else [obj.dtype]
    index = obj.index
    h.update(
        repr(
            (
                columns,
                [str(d) for d in dtypes],
                list(index.names),
                [str(d) for d in _index_dtypes(index)],
                obj.shape,
            )
        ).encode()
    )
    try:
        hashes = pd.util.hash_pandas_object(obj, index=True)
    except (TypeError, ValueError):  # unhashable cells; strings that are not valid UTF-8
        h.update(to_csv_bytes(obj))
    else:
        h.update(hashes.to_numpy().tobytes())
    return h.hexdigest()


# --- parsing -----------------------------------------------------------------------------


def _parse(template: str) -> list[str | _Reference]:
    """Split ``template`` into literal text (braces unescaped) and references.

    Raises UsageError naming the problem and where it is (line, column, the text around it).
    """
    pieces: list[str | _Reference] = []
    end = 0
    for match in _TOKEN.finditer(template):
        pieces.append(template[end : match.start()])
        end = match.end()
        token, content = match.group(0), match.group(1)
        if token == "{{":
            pieces.append("{")
        elif token == "}}":
            pieces.append("}")
        elif content is not None:
            if not _is_reference(content):
                raise _brace_error(template, match.start(), token)
            pieces.append(_Reference(content, match.start()))
        elif token == "{":
            raise UsageError(
                f"Unclosed `{{` at {_where(template, match.start())}: a reference is a name "
                "in braces on one line, like `{sales}`.",
                hint=_LITERAL_BRACES,
            )
        else:
            raise UsageError(
                f"Unmatched `}}` at {_where(template, match.start())}.",
                hint=_LITERAL_BRACES,
            )
    pieces.append(template[end:])
    return [p for p in pieces if p != ""]


def _is_reference(content: str) -> bool:
    """A name or dotted attribute path, and nothing else (no expressions, no spaces)."""
    parts = content.split(".")
    return all(part.isidentifier() and not keyword.iskeyword(part) for part in parts)


def _brace_error(template: str, position: int, token: str) -> UsageError:
    where = _where(template, position)
    hint = _LITERAL_BRACES
    if not token[1:-1].strip():
        return UsageError(
            f"Empty reference `{token}` at {where}: put a variable name in the braces, "
            "like `{sales}`.",
            hint=hint,
        )
    shown = token if len(token) <= 40 else token[:37] + "…}"
    return UsageError(
        f"`{shown}` at {where} is not a variable name: only names and dotted attributes, "
        "like `{sales}` or `{obj.frame}`, can be referenced.",
        hint=hint,
    )


def _where(template: str, position: int) -> str:
    """``line 2, column 7 (near `…text…`)`` for an error message."""
    line_start = template.rfind("\n", 0, position) + 1
    line_end = template.find("\n", position)
    line = template[line_start : line_end if line_end != -1 else len(template)]
    column = position - line_start
    left = max(0, column - 20)
    snippet = line[left : column + 20]
    prefix = "…" if left > 0 else ""
    suffix = "…" if column + 20 < len(line) else ""
    line_number = template.count("\n", 0, position) + 1
    return f"line {line_number}, column {column + 1} (near `{prefix}{snippet}{suffix}`)"


# --- resolving ---------------------------------------------------------------------------


def _resolve(name: str, namespace: Mapping[str, Any]) -> Any:
    """Look ``name`` (possibly dotted) up in the user's namespace."""
    head, *attributes = name.split(".")
    if head not in namespace:
        visible = [key for key in namespace if isinstance(key, str) and not key.startswith("_")]
        raise ReferenceNotFound(
            f"`{{{head}}}` names no variable of this notebook; nothing was sent.",
            hint=_did_you_mean(head, visible),
        )
    value = namespace[head]
    path = head
    for attribute in attributes:
        try:
            value = getattr(value, attribute)
        except AttributeError:
            options = [a for a in dir(value) if not a.startswith("_")]
            raise ReferenceNotFound(
                f"`{path}` has no attribute `{attribute}` (in `{{{name}}}`); nothing was sent.",
                hint=_did_you_mean(attribute, options),
            ) from None
        except Exception as error:
            raise AttachmentError(
                f"Reading `{path}.{attribute}` raised {type(error).__name__}: {error}"
            ) from error
        path = f"{path}.{attribute}"
    return value


def _did_you_mean(name: str, candidates: list[str]) -> str | None:
    close = difflib.get_close_matches(name, candidates, n=3)
    if not close:
        return None
    return "Did you mean " + " or ".join(f"`{c}`" for c in close) + "?"


def _frame_kind(obj: Any) -> str | None:
    """``"pandas.DataFrame"`` etc. for an attachable frame, else None.

    Looks in ``sys.modules`` instead of importing: an object can only be a pandas frame
    if pandas is already loaded, and a plain prompt must not pay for importing it.
    """
    pd = sys.modules.get("pandas")
    if pd is not None:
        if isinstance(obj, getattr(pd, "DataFrame", ())):
            return "pandas.DataFrame"
        if isinstance(obj, getattr(pd, "Series", ())):
            return "pandas.Series"
    pl = sys.modules.get("polars")
    if pl is not None and isinstance(obj, getattr(pl, "DataFrame", ())):
        return "polars.DataFrame"
    return None


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
        kind = _frame_kind(value)
        if kind is None or not re.search(rf"\b{re.escape(name)}\b", literal):
            continue
        label = {
            "pandas.DataFrame": "a DataFrame",
            "pandas.Series": "a Series",
            "polars.DataFrame": "a polars DataFrame",
        }[kind]
        hints.append(f"`{name}` is {label} here: write `{{{name}}}` to attach it.")
    return tuple(hints)


# --- attaching ---------------------------------------------------------------------------


def _attach(
    name: str, obj: Any, kind: str, *, cap: int, sample: int | None, seed: int
) -> Attachment:
    """Turn one referenced frame into an Attachment, refusing it when over ``cap``."""
    total = len(obj)
    sent = obj
    if sample is not None and total > sample:
        sent = _sample_rows(obj, kind, sample, seed)
    if kind == "polars.DataFrame":
        _check_polars_columns(name, sent)
        _refuse_if_clearly_over(name, sent, total, cap, lambda part: len(_polars_csv(part, name)))
        data = _polars_csv(sent, name)
        column_types = tuple((col, str(dtype)) for col, dtype in sent.schema.items())
        columns, index_columns = sent.width, 0
    else:
        keep_index = _index_carries_information(obj.index)
        table, index_columns = _csv_table(sent, name=name.split(".")[-1], keep_index=keep_index)
        _refuse_if_clearly_over(name, table, total, cap, lambda part: len(_pandas_csv(part)[0]))
        data = _pandas_csv(table)[0]
        column_types = tuple((str(col), str(dtype)) for col, dtype in table.dtypes.items())
        columns = len(table.columns) - index_columns
    if len(data) > cap:
        raise _too_large(name, len(data), exact=True, rows=len(sent), total=total, cap=cap)
    return Attachment(
        name=name,
        filename=f"{name}.csv",
        data=data,
        rows=len(sent),
        columns=columns,
        kind=kind,
        column_types=column_types,
        total_rows=total,
        digest=frame_digest(sent),
        index_columns=index_columns,
        requested_sample=sample,
    )


def _sample_rows(obj: Any, kind: str, n: int, seed: int) -> Any:
    """``n`` seeded random rows of ``obj``, in their original order.

    The positions are drawn the way ``DataFrame.sample(n, random_state=seed)`` draws them,
    so pandas and polars frames of the same length get the same rows.
    """
    import numpy as np
    import pandas as pd

    drawn = pd.Series(np.arange(len(obj))).sample(n, random_state=seed).to_numpy()
    positions = np.sort(drawn)
    return obj[positions] if kind == "polars.DataFrame" else obj.iloc[positions]


def _refuse_if_clearly_over(name: str, table: Any, total: int, cap: int, measure: Any) -> None:
    """Refuse a frame whose CSV is clearly over ``cap`` without building all of it.

    Writes evenly spaced rows (spread, because the head of a frame is often unlike the
    rest), scales their size to the row count and refuses when the estimate is over the cap
    by a safe margin; a frame near the cap is built and measured exactly by the caller.
    """
    rows = len(table)
    width = max(1, table.shape[1])
    probe = max(50, min(_ESTIMATE_ROWS, _ESTIMATE_CELLS // width))
    if rows <= probe:
        return
    import numpy as np

    positions = np.linspace(0, rows - 1, probe).astype(np.int64)
    take = (lambda p: table[p]) if _frame_kind(table) == "polars.DataFrame" else table.take
    header = measure(take(positions[:0]))
    body = measure(take(positions)) - header
    estimate = header + int(body * rows / probe)
    if estimate > cap * _CLEARLY_OVER:
        raise _too_large(name, estimate, exact=False, rows=rows, total=total, cap=cap)


def _too_large(name: str, size: int, *, exact: bool, rows: int, total: int, cap: int) -> Exception:
    about = "" if exact else "about "
    what = f"a sample of {rows:,} of its {total:,} rows" if rows < total else f"{total:,} rows"
    fit = max(1, int(rows * cap / size * 0.8))
    fit = int(float(f"{fit:.2g}"))
    return AttachmentError(
        f"`{name}` ({what}) is {about}{_format_size(size)} as CSV, over the "
        f"{_format_size(cap)} limit for one attachment (max_attachment_bytes); nothing was sent.",
        hint=f"Send a seeded random sample with `--sample {fit}` (the model is told it is a "
        f"sample), or aggregate first (groupby, describe) and reference the result.",
    )


def _index_carries_information(index: Any) -> bool:
    """False only for an unnamed 0..n-1 integer index, which every reader recreates."""
    import pandas as pd

    if index.nlevels > 1 or any(level is not None for level in index.names):
        return True
    if isinstance(index, pd.RangeIndex):
        return not (index.start == 0 and index.step == 1)
    if not pd.api.types.is_integer_dtype(index.dtype):
        return True
    return not index.equals(pd.RangeIndex(len(index)))


def _index_dtypes(index: Any) -> list[Any]:
    return list(index.dtypes) if index.nlevels > 1 else [index.dtype]


def _csv_table(obj: Any, *, name: str, keep_index: bool) -> tuple[Any, int]:
    """The frame exactly as it goes into the CSV, and how many index columns lead it.

    A Series becomes a one-column frame named after it (or after the reference); a kept
    index becomes leading columns; MultiIndex column labels are joined with ``_`` into one
    header row, because a multi-row header is misread by a plain ``read_csv``.
    """
    frame = obj.to_frame(name=obj.name if obj.name is not None else name) if obj.ndim == 1 else obj
    index_columns = 0
    if keep_index:
        index_columns = frame.index.nlevels
        frame = frame.reset_index(allow_duplicates=True)
    else:
        frame = frame.copy(deep=False)
    if frame.columns.nlevels > 1:
        frame.columns = ["_".join(str(p) for p in label if str(p) != "") for label in frame.columns]
    else:
        frame.columns = [str(label) for label in frame.columns]
    return frame, index_columns


def _pandas_csv(table: Any) -> tuple[bytes, str]:
    """CSV bytes of a prepared table and the writer used (``"pyarrow"`` or ``"pandas"``).

    pyarrow's writer is several times faster; it is used only where its text parses back
    (``pandas.read_csv``) to the same values as ``DataFrame.to_csv``'s text.
    """
    if _arrow_can_write(table):
        import pyarrow as pa

        try:
            return _arrow_csv(table), "pyarrow"
        except (pa.ArrowException, UnicodeEncodeError):
            pass  # a value pyarrow cannot convert after all: to_csv writes anything
    # Lone surrogates (from badly decoded bytes) cannot be UTF-8: shown as \udcxx escapes.
    text = table.to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8", errors="backslashreplace"), "pandas"


def _arrow_can_write(table: Any) -> bool:
    """True when pyarrow is installed and every column has a type it writes faithfully.

    Left to ``to_csv``: categoricals, tz-aware datetimes (pyarrow writes ``+0100``, pandas
    ``+01:00``), timedeltas, periods, intervals, complex, float16, object columns holding
    anything but strings (mixed types, bytes, lists), duplicate names, no columns.
    """
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    import pandas as pd

    if table.shape[1] == 0 or table.columns.has_duplicates:
        return False
    for _, column in table.items():
        dtype = column.dtype
        if isinstance(dtype, pd.StringDtype) or _MASKED_DTYPE.fullmatch(str(dtype)):
            continue
        if isinstance(dtype, pd.ArrowDtype):
            if not _arrow_type_is_plain(dtype.pyarrow_dtype):
                return False
            continue
        if isinstance(dtype, pd.api.extensions.ExtensionDtype):
            return False
        if dtype.kind in "iubM" or (dtype.kind == "f" and dtype.itemsize >= 4):
            continue
        if dtype.kind == "O" and pd.api.types.infer_dtype(column, skipna=True) in (
            "string",
            "empty",
        ):
            continue
        return False
    return True


def _arrow_type_is_plain(arrow_type: Any) -> bool:
    import pyarrow as pa

    return (
        pa.types.is_integer(arrow_type)
        or pa.types.is_float32(arrow_type)
        or pa.types.is_float64(arrow_type)
        or pa.types.is_boolean(arrow_type)
        or pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
    )


def _arrow_csv(table: Any) -> bytes:
    """Write ``table`` with pyarrow, shaped to read back like ``to_csv``'s text.

    Timestamps are narrowed to the coarsest unit that loses nothing (dates when all are
    midnight), as ``to_csv`` does; strings are quoted only when some value needs it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    quoting = "none"
    for i, field in enumerate(arrow.schema):
        column = arrow.column(i)
        if pa.types.is_timestamp(field.type):
            arrow = arrow.set_column(i, field.name, _narrow_timestamps(column))
        elif pa.types.is_floating(field.type):
            arrow = arrow.set_column(i, field.name, _floats_as_floats(column))
        elif (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)) and (
            quoting == "none" and pc.any(pc.match_substring_regex(column, _STRUCTURAL)).as_py()
        ):
            quoting = "needed"
    sink = pa.BufferOutputStream()
    pacsv.write_csv(arrow, sink, pacsv.WriteOptions(quoting_style=quoting))
    return sink.getvalue().to_pybytes()


def _floats_as_floats(column: Any) -> Any:
    """Write integral floats as ``2.0``, not pyarrow's ``2``, when the whole column is integral.

    Otherwise ``read_csv`` would load a float column (say counts with a gap, which pandas
    stores as float64) as int64, unlike ``to_csv``'s text.  Columns with any fraction are
    left alone: one ``1.5`` already makes ``read_csv`` load the column as float.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    values = column.drop_null().to_numpy()
    finite = values[np.isfinite(values)]
    if finite.size == 0 or (finite != np.floor(finite)).any():
        return column
    text = column.cast(pa.string())
    integral = pc.match_substring_regex(text, r"^-?[0-9]+$")
    return pc.if_else(integral, pc.binary_join_element_wise(text, ".0", ""), text)


def _narrow_timestamps(column: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[column.type.unit]
    values = pc.fill_null(column.cast(pa.int64()), 0).to_numpy()
    if not (values % (86_400 * per_second)).any():
        return column.cast(pa.date32(), safe=False)
    for unit, step in (
        ("s", per_second),
        ("ms", per_second // 1_000),
        ("us", per_second // 1_000_000),
    ):
        if step >= 1 and not (values % step).any():
            return column.cast(pa.timestamp(unit), safe=False)
    return column


def _check_polars_columns(name: str, frame: Any) -> None:
    nested = [col for col, dtype in frame.schema.items() if dtype.is_nested()]
    if nested:
        listed = ", ".join(f"`{c}`" for c in nested)
        raise AttachmentError(
            f"`{name}` has nested columns ({listed}), which a CSV file cannot hold; nothing "
            "was sent.",
            hint="Explode, unnest or drop them first and reference the result.",
        )


def _polars_csv(frame: Any, name: str) -> bytes:
    import polars as pl

    try:
        return frame.write_csv().encode("utf-8")
    except pl.exceptions.PolarsError as error:
        raise AttachmentError(f"`{name}` cannot be written as CSV: {error}") from error


# --- formatting --------------------------------------------------------------------------


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _format_size(size: int | float) -> str:
    """Decimal units, as file managers show them: ``512 B``, ``5.2 kB``, ``3.4 MB``."""
    if size < 1_000:
        return f"{int(size)} B"
    if size < 1e6:
        return f"{size / 1e3:.1f} kB"
    if size < 1e9:
        return f"{size / 1e6:.1f} MB"
    return f"{size / 1e9:.1f} GB"
