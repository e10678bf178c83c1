"""A pandas frame as CSV text that reads back as ``DataFrame.to_csv``'s text does, only faster.

pyarrow's CSV writer is several times faster than ``to_csv``; it is used only for column
types it writes faithfully (checked per column), with timestamps and integral floats shaped
so that ``pandas.read_csv`` loads the same values from either text.  Everything else goes
through ``to_csv``, which writes anything.  pandas and pyarrow are imported inside the
functions: this module is only reached once a frame has been recognised.
"""

from __future__ import annotations

import csv
import re
from typing import Any

__all__ = [
    "NA_WORDS",
    "blank_cells",
    "by_to_csv",
    "csv_table",
    "index_carries_information",
    "pandas_csv",
]

# Characters that force pyarrow to quote string values.
_STRUCTURAL = r'[,"\r\n]'

_MASKED_DTYPE = re.compile(r"U?Int(8|16|32|64)|Float(32|64)|boolean")

#: The texts ``pandas.read_csv`` loads as missing values by default (its documented list).
NA_WORDS = frozenset(
    {
        *("#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND"),
        *("1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"),
    }
)


def index_carries_information(index: Any) -> bool:
    """False only for an unnamed 0..n-1 integer index, which every reader recreates."""
    import pandas as pd

    if index.nlevels > 1 or any(level is not None for level in index.names):
        return True
    if isinstance(index, pd.RangeIndex):
        return not (index.start == 0 and index.step == 1)
    if not pd.api.types.is_integer_dtype(index.dtype):
        return True
    return not index.equals(pd.RangeIndex(len(index)))


def csv_table(obj: Any, *, name: str, keep_index: bool) -> tuple[Any, int]:
    """The frame exactly as it goes into the CSV, and how many index columns lead it.

    A Series becomes a one-column frame named after it (or after the reference); a kept
    index becomes leading columns; MultiIndex column labels are joined with ``_`` into one
    header row, because a multi-row header is misread by a plain ``read_csv``.
    """
    frame = obj.to_frame(name=obj.name if obj.name is not None else name) if obj.ndim == 1 else obj
    frame = frame.copy(deep=False)
    # Labels become text before the index joins the columns: pandas cannot insert some
    # labels among others (a float index name among integer column labels raises).
    if frame.columns.nlevels > 1:
        frame.columns = ["_".join(str(p) for p in label if str(p) != "") for label in frame.columns]
    else:
        frame.columns = [str(label) for label in frame.columns]
    index_columns = 0
    if keep_index:
        index_columns = frame.index.nlevels
        frame.index = frame.index.set_names([n if n is None else str(n) for n in frame.index.names])
        frame = frame.reset_index(allow_duplicates=True)
    for position, (_, column) in enumerate(frame.items()):
        if _has_second_offsets(column):
            frame.isetitem(position, column.dt.tz_convert("UTC"))
    return frame, index_columns


def _has_second_offsets(column: Any) -> bool:
    """Whether a zoned date column holds an offset of whole seconds (a zone's local mean
    time before 1900 or so: ``+00:09:21``), which ``to_csv`` writes and no parser reads;
    such a column goes in UTC, which its declared type then says."""
    import numpy as np
    import pandas as pd

    if not isinstance(column.dtype, pd.DatetimeTZDtype):
        return False
    wall = column.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    utc = column.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return bool(((wall - utc) % 60_000_000_000).any())


def pandas_csv(table: Any) -> tuple[bytes, str]:
    """CSV bytes of a prepared table and the writer used (``"pyarrow"`` or ``"pandas"``).

    pyarrow's writer is several times faster; it is used only where its text parses back
    (``pandas.read_csv``) to the same values as ``DataFrame.to_csv``'s text.
    """
    blank_rows = table.shape[1] == 1 and _has_blank_cells(table.iloc[:, 0])
    if not blank_rows and _arrow_can_write(table):
        import pyarrow as pa
        import pyarrow.csv as pacsv

        try:
            arrow, quoting = _arrow_table(table)
            sink = pa.BufferOutputStream()
            pacsv.write_csv(arrow, sink, pacsv.WriteOptions(quoting_style=quoting))
            return sink.getvalue().to_pybytes(), "pyarrow"
        except (pa.ArrowException, UnicodeEncodeError):
            pass  # a value pyarrow cannot convert after all: to_csv writes anything
    # ``read_csv`` skips blank lines, so in a one-column file a missing value or an empty
    # string written bare would drop its row; and Python's csv module quotes only the
    # line terminator's characters, so a bare "\r" would end a row: see by_to_csv.
    return by_to_csv(table, quote_text=blank_rows), "pandas"


def by_to_csv(table: Any, *, quote_text: bool = False) -> bytes:
    """``DataFrame.to_csv``'s text of a prepared table, which reads back whatever it holds.

    Quoting every non-number (``quote_text``, and whenever a cell holds a "\r") writes a
    missing value as ``""`` and keeps a carriage return inside its quoted cell; it also
    keeps a first column name that starts with a byte-order mark, which ``read_csv``
    would strip from the start of the file.
    """
    bom = str(table.columns[0]).startswith("\ufeff") if table.shape[1] else False
    quote_text = quote_text or bom or _has_carriage_return(table)
    quoting = csv.QUOTE_NONNUMERIC if quote_text else None
    text = table.to_csv(index=False, lineterminator="\n", quoting=quoting)
    # Lone surrogates (from badly decoded bytes) cannot be UTF-8: shown as \udcxx escapes.
    return text.encode("utf-8", errors="backslashreplace")


def blank_cells(table: Any) -> tuple[bool, bool]:
    """Whether the table holds missing values or empty strings (both written as empty
    fields, which ``read_csv`` loads as NaN), and whether a text cell is one of the
    :data:`NA_WORDS` (which ``read_csv`` also loads as NaN unless told not to)."""
    missing = bool(table.isna().to_numpy().any())
    words = False
    for _, column in table.items():
        text = _text_cells(column)
        missing = missing or bool(text.eq("").any())
        words = words or bool(text.isin(NA_WORDS).any())
    return missing, words


def _has_blank_cells(column: Any) -> bool:
    """Whether a column holds a missing value, or text that is empty or only spaces and
    tabs: alone on its line, ``read_csv`` skips it as a blank line."""
    if column.isna().any():
        return True
    return _text_cells(column).str.strip().eq("").any()


def _has_carriage_return(table: Any) -> bool:
    return any("\r" in str(name) for name in table.columns) or any(
        _text_cells(column).str.contains("\r", regex=False).any() for _, column in table.items()
    )


def _text_cells(column: Any) -> Any:
    """A column's cells as text, as ``to_csv`` writes them; empty for non-text columns."""
    import pandas as pd

    if isinstance(column.dtype, pd.CategoricalDtype):
        column = column.cat.categories.to_series()
    if isinstance(column.dtype, pd.StringDtype):
        return column.dropna()
    if column.dtype.kind != "O":
        return pd.Series([], dtype=object)
    cells = column.dropna()
    if pd.api.types.infer_dtype(cells, skipna=False) in ("string", "empty"):
        return cells
    # Mixed objects: their str(), kept as Python objects (it may hold lone surrogates).
    return pd.Series([str(cell) for cell in cells], dtype=object)


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


def _arrow_table(table: Any) -> tuple[Any, str]:
    """``table`` as a pyarrow table shaped to be written like ``to_csv``'s text, and the
    quoting it needs.

    Timestamps are narrowed to the coarsest unit that loses nothing (dates when all are
    midnight), as ``to_csv`` does; strings are quoted only when some value needs it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    quoting = "none"  # of the values: pyarrow always quotes the header
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
    return arrow, quoting


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
