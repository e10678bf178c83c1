"""DataFrames as CSV attachments: the frame attachment, its encoding, cap, sampling and hash.

A pandas DataFrame or Series, or a polars DataFrame, becomes UTF-8 CSV that
``pandas.read_csv`` reads back to the same values as ``DataFrame.to_csv``'s text would give
(the pandas writer is :mod:`gemini_magic.inputs.writers`; polars writes its own).  A frame
over the size cap is refused from an estimate before all of it is written, and a
``--sample N`` takes seeded random rows in their original order.

pandas, pyarrow and polars are imported inside the functions that need them, so that
``%load_ext gemini_magic`` stays light; a user object can only be a pandas or polars frame if
that library is already in ``sys.modules``, which is how frames are recognised.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from typing import Any

from gemini_magic.errors import AttachmentError
from gemini_magic.inputs.attachment import Attachment
from gemini_magic.inputs.writers import (
    NA_WORDS,
    blank_cells,
    csv_table,
    index_carries_information,
    pandas_csv,
)
from gemini_magic.text import count, human_size

__all__ = ["FrameAttachment", "encode_frame", "frame_digest", "frame_kind", "to_csv_bytes"]

# Rows written to estimate a frame's CSV size before building all of it, and the margin
# over the cap at which the estimate alone is trusted to refuse.
_ESTIMATE_ROWS = 2_000
_ESTIMATE_CELLS = 200_000
_CLEARLY_OVER = 1.2

# Column types listed in the model's description before the rest are only counted.
_DESCRIBED_COLUMNS = 100


@dataclass(frozen=True, kw_only=True)
class FrameAttachment(Attachment):
    """One DataFrame or Series as the CSV file the model receives.

    ``columns`` counts the frame's own columns; ``index_columns`` counts the index levels
    written before them (0 when the index is a default 0..n-1 range that says nothing).
    ``column_types`` lists every CSV column, index columns first, in file order.
    ``requested_sample`` is the ``--sample N`` in force, so the summary can say when a
    frame was small enough to go whole.  ``missing`` says the file holds empty fields (a
    missing value or an empty string: the CSV cannot tell them apart) and ``na_words``
    that a text cell is a word ``read_csv`` loads as missing unless told otherwise.
    """

    rows: int
    columns: int
    column_types: tuple[tuple[str, str], ...]
    total_rows: int
    index_columns: int = 0
    requested_sample: int | None = None
    missing: bool = False
    na_words: bool = False
    mime_type: str = "text/csv"
    kind: str = "frame"

    @property
    def sampled(self) -> bool:
        """True when fewer rows were sent than the object holds."""
        return self.rows < self.total_rows

    def describe(self) -> str:
        """Which file holds which variable, its shape, and whether it is a sample.

        The model sees only files, so it needs the mapping from file to variable name, the
        shape it should expect after loading, and whether it is looking at a sample (so it
        does not report a sample's totals as the data's).
        """
        label = (self.value_type or "").replace("pandas.", "pandas ").replace("polars.", "polars ")
        lines = [
            f"The file `{self.filename}` holds the {label} `{self.name}` as CSV: "
            f"{count(self.rows, 'row')} × {count(self.columns, 'column')}"
            + (
                f" plus {count(self.index_columns, 'index column')} first"
                if self.index_columns
                else ""
            )
            + ".",
            self.in_sandbox(f"load it with pandas.read_csv('{self.filename}')"),
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
        if self.missing:
            lines.append(
                "Missing values are written as empty fields, and so are empty strings: "
                "read_csv loads both as NaN."
            )
        if self.na_words:
            lines.append(
                "Some text cells are words read_csv takes for missing values (like `NA` or "
                f"`null`): load it with pandas.read_csv('{self.filename}', "
                "keep_default_na=False, na_values=['']) to keep them as text."
            )
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


def frame_kind(obj: Any) -> str | None:
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


def encode_frame(
    name: str,
    obj: Any,
    kind: str,
    *,
    filename: str,
    column: str,
    cap: int,
    sample: int | None,
    seed: int,
) -> FrameAttachment:
    """Write the frame referenced as ``name`` as the CSV file ``filename``, within ``cap`` bytes.

    ``kind`` is what :func:`frame_kind` said of ``obj``; ``column`` names the one column of
    an unnamed Series; ``sample`` (``--sample N``) takes N seeded random rows when the frame
    has more.
    """
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
        missing, na_words = _polars_blank_cells(sent)
    else:
        keep_index = index_carries_information(obj.index)
        table, index_columns = csv_table(sent, name=column, keep_index=keep_index)
        _refuse_if_clearly_over(name, table, total, cap, lambda part: len(pandas_csv(part)[0]))
        data = pandas_csv(table)[0]
        column_types = tuple((str(col), str(dtype)) for col, dtype in table.dtypes.items())
        columns = len(table.columns) - index_columns
        missing, na_words = blank_cells(table)
    if len(data) > cap:
        raise _too_large(name, len(data), exact=True, rows=len(sent), total=total, cap=cap)
    return FrameAttachment(
        name=name,
        filename=filename,
        data=data,
        digest=frame_digest(sent),
        value_type=kind,
        rows=len(sent),
        columns=columns,
        column_types=column_types,
        total_rows=total,
        index_columns=index_columns,
        requested_sample=sample,
        missing=missing,
        na_words=na_words,
    )


def to_csv_bytes(obj: Any) -> bytes:
    """The whole of a pandas DataFrame / Series or polars DataFrame as UTF-8 CSV.

    The index is written when it carries information; no size cap, no sampling.
    """
    kind = frame_kind(obj)
    if kind is None:
        raise TypeError(f"to_csv_bytes needs a DataFrame or Series, not {type(obj).__name__}")
    if kind == "polars.DataFrame":
        return _polars_csv(obj, "object")
    table, _ = csv_table(obj, name="value", keep_index=index_carries_information(obj.index))
    return pandas_csv(table)[0]


def frame_digest(obj: Any) -> str:
    """A content hash of a frame for the upload cache (hex).

    ``hash_pandas_object`` hashes values and index in vectorised code, far cheaper than
    hashing the CSV; column names and dtypes are mixed in because they change the file
    without changing the hashed values.  Cells that cannot be hashed (lists, dicts, lone
    surrogates) fall back to hashing the CSV bytes.
    """
    kind = frame_kind(obj)
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
    take = (lambda p: table[p]) if frame_kind(table) == "polars.DataFrame" else table.take
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
        f"`{name}` ({what}) is {about}{human_size(size)} as CSV, over the "
        f"{human_size(cap)} limit for one attachment (max_attachment_bytes); nothing was sent.",
        hint=f"Send a seeded random sample with `--sample {fit}` (the model is told it is a "
        f"sample), or aggregate first (groupby, describe) and reference the result.",
    )


def _index_dtypes(index: Any) -> list[Any]:
    return list(index.dtypes) if index.nlevels > 1 else [index.dtype]


def _check_polars_columns(name: str, frame: Any) -> None:
    nested = [col for col, dtype in frame.schema.items() if dtype.is_nested()]
    if nested:
        listed = ", ".join(f"`{c}`" for c in nested)
        raise AttachmentError(
            f"`{name}` has nested columns ({listed}), which a CSV file cannot hold; nothing "
            "was sent.",
            hint="Explode, unnest or drop them first and reference the result.",
        )


def _polars_blank_cells(frame: Any) -> tuple[bool, bool]:
    """:func:`~gemini_magic.inputs.writers.blank_cells` of a polars frame."""
    import polars as pl

    missing = any(frame.null_count().row(0)) if frame.width else False
    words = False
    for column in frame.iter_columns():
        if column.dtype == pl.String:
            missing = missing or bool((column == "").any())
            words = words or bool(column.is_in(list(NA_WORDS)).any())
    return missing, words


def _polars_csv(frame: Any, name: str) -> bytes:
    import polars as pl

    # A one-column file must not write a missing value, or text of only spaces, as a blank
    # line, which read_csv skips: its text is quoted and a missing value is "" (which
    # read_csv loads as NaN).  A first name starting with a byte-order mark is quoted too,
    # or read_csv strips the mark.
    one = frame.width == 1
    bom = frame.width > 0 and frame.columns[0].startswith("\ufeff")
    null_value = '""' if one else ""
    quote_style = "non_numeric" if one or bom else "necessary"
    try:
        return frame.write_csv(null_value=null_value, quote_style=quote_style).encode("utf-8")
    except pl.exceptions.PolarsError as error:
        raise AttachmentError(f"`{name}` cannot be written as CSV: {error}") from error
