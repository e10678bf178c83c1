"""Generated frames → the CSV attachment → ``pandas.read_csv``, as the model's code reads it.

Every frame a user may hold (numbers past 2**53, NaN and infinities, nullable columns,
strings with commas, quotes, line breaks and bare carriage returns, dates with and without
time zones, durations, categoricals, bytes, MultiIndex rows and columns, duplicate and
non-string names, one column or none) must read back with ``read_csv``'s defaults to the
same number of rows and columns, and every cell to the user's value under the column type
the attachment text declares.  Both writers (pyarrow and ``DataFrame.to_csv``) and polars.
"""

from __future__ import annotations

import io
import math
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gemini_magic.inputs.frames import encode_frame
from gemini_magic.inputs.writers import NA_WORDS, by_to_csv, csv_table, index_carries_information

pytestmark = pytest.mark.properties

# Text a user's data holds: CSV's own structure, spaces at the edges, non-BMP and
# right-to-left characters, numbers and NA words as text, formulas, long cells.
_TRICKY = st.sampled_from(
    [
        ",",
        '"',
        "\n",
        "\r",
        "\r\n",
        "\t",
        " ",
        "",
        "NaN",
        "None",
        "null",
        "NA",
        "nan",
        "n/a",
        "1",
        "01",
        "-0",
        "1e5",
        "0x1F",
        "True",
        "=SUM(A1:A2)",
        "+1",
        "@x",
        "𝔘𝔫𝔦",
        "😀",
        "שלום",
        "مرحبا",
        "\u200f",
        "\ufeff",
        "#",
        "'",
        "a" * 300,
    ]
)
_TEXT = st.lists(
    st.one_of(_TRICKY, st.text(st.characters(exclude_categories=["Cs"]), max_size=8)),
    max_size=4,
).map("".join)
_LABELS = st.one_of(_TEXT, st.integers(-5, 5), st.floats(allow_nan=False), st.booleans())
_NAMES = st.one_of(_LABELS, st.none())
_TIMESTAMPS = st.datetimes(
    min_value=datetime(1678, 1, 1), max_value=datetime(2261, 12, 31, 23, 59, 59, 999999)
)
_ZONES = st.sampled_from(["UTC", "Europe/Paris", "Asia/Kolkata", "America/St_Johns"])
_DURATIONS = st.timedeltas(
    min_value=pd.Timedelta.min.to_pytimedelta() / 2, max_value=pd.Timedelta.max.to_pytimedelta() / 2
)


def _maybe_missing(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values)


@st.composite
def _column(draw: st.DrawFn, rows: int) -> pd.Series:
    """One column of ``rows`` cells of a randomly chosen type."""
    kind = draw(
        st.sampled_from(
            [
                "int64",
                "uint64",
                "Int64",
                "float64",
                "float32",
                "bool",
                "boolean",
                "object",
                "string",
                "datetime",
                "datetime-tz",
                "timedelta",
                "category",
                "bytes",
            ]
        )
    )

    def cells(values: st.SearchStrategy[Any]) -> list[Any]:
        return draw(st.lists(values, min_size=rows, max_size=rows))

    if kind == "int64":
        return pd.Series(cells(st.integers(-(2**63), 2**63 - 1)), dtype="int64")
    if kind == "uint64":
        return pd.Series(cells(st.integers(0, 2**64 - 1)), dtype="uint64")
    if kind == "Int64":
        return pd.Series(cells(_maybe_missing(st.integers(-(2**63), 2**63 - 1))), dtype="Int64")
    if kind == "float64":
        return pd.Series(cells(_maybe_missing(st.floats())), dtype="float64")
    if kind == "float32":
        return pd.Series(cells(_maybe_missing(st.floats(width=32))), dtype="float32")
    if kind == "bool":
        return pd.Series(cells(st.booleans()), dtype="bool")
    if kind == "boolean":
        return pd.Series(cells(_maybe_missing(st.booleans())), dtype="boolean")
    if kind in ("object", "string"):
        return pd.Series(cells(_maybe_missing(_TEXT)), dtype=kind)
    if kind == "datetime":
        return pd.Series(pd.to_datetime(cells(_maybe_missing(_TIMESTAMPS))), dtype="M8[ns]")
    if kind == "datetime-tz":
        naive = pd.Series(pd.to_datetime(cells(_maybe_missing(_TIMESTAMPS))), dtype="M8[ns]")
        return naive.dt.tz_localize("UTC").dt.tz_convert(draw(_ZONES))
    if kind == "timedelta":
        return pd.Series(cells(_maybe_missing(_DURATIONS)), dtype="m8[ns]")
    if kind == "category":
        return pd.Series(cells(_maybe_missing(_TEXT)), dtype="category")
    return pd.Series(cells(st.binary(max_size=6)), dtype=object)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame | pd.Series:
    """A DataFrame (or Series) with any of the column types, index and column labels."""
    rows = draw(st.integers(0, 12))
    width = draw(st.integers(1, 4))
    columns = [draw(_column(rows)) for _ in range(width)]
    frame = pd.concat(columns, axis=1)
    if draw(st.booleans()):
        frame.columns = [draw(_NAMES) for _ in range(width)]
    elif width and draw(st.booleans()):
        frame.columns = pd.MultiIndex.from_tuples(
            [(draw(_NAMES), draw(_NAMES)) for _ in range(width)]
        )
    index = draw(st.sampled_from(["range", "named", "shifted", "multi", "text"]))
    if index == "named":
        frame.index = pd.RangeIndex(rows, name=draw(_LABELS))
    elif index == "shifted":
        frame.index = pd.RangeIndex(5, 5 + rows)
    elif index == "multi":
        frame.index = pd.MultiIndex.from_arrays(
            [draw(st.lists(_TEXT, min_size=rows, max_size=rows)), range(rows)],
            names=["key", draw(_NAMES)],
        )
    elif index == "text":
        frame.index = pd.Index(draw(st.lists(_TEXT, min_size=rows, max_size=rows)))
    if width == 1 and draw(st.booleans()):
        return frame.iloc[:, 0]
    return frame


def _encode(obj: Any) -> Any:
    kind = "pandas.Series" if isinstance(obj, pd.Series) else "pandas.DataFrame"
    return encode_frame(
        "data", obj, kind, filename="data.csv", column="data", cap=10**9, sample=None, seed=0
    )


def _table(obj: Any) -> Any:
    return csv_table(obj, name="data", keep_index=index_carries_information(obj.index))[0]


def _same_cell(written: Any, read: Any, dtype: Any) -> bool:
    """Whether ``read`` (the text ``read_csv(dtype=str)`` gives) is ``written`` under its type."""
    missing = read is None or (isinstance(read, float) and math.isnan(read))
    if written is None or written is pd.NA or written is pd.NaT or _is_nan(written):
        return missing
    if isinstance(written, str) and written == "":
        return missing  # documented: an empty string is written as a missing value is
    if missing:
        return False
    if isinstance(dtype, pd.DatetimeTZDtype) or dtype.kind == "M":
        return pd.Timestamp(read) == written
    if dtype.kind == "m":
        return pd.Timedelta(read) == written
    if dtype.kind == "f":
        parsed = float(read)
        return parsed == written and math.copysign(1, parsed) == math.copysign(1, written)
    if dtype.kind in "iu" or str(dtype) in ("Int64",):
        return int(read) == written
    if dtype.kind == "b" or str(dtype) == "boolean":  # pyarrow writes true, to_csv True
        return read.lower() == str(bool(written)).lower()
    return read == str(written)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float | np.floating) and math.isnan(value)


def _check_reads_back(obj: Any, data: bytes) -> None:
    table = _table(obj)
    default = pd.read_csv(io.BytesIO(data))
    assert default.shape == table.shape, data
    text = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""])
    for position, (_, column) in enumerate(table.items()):
        for row, written in enumerate(column.array):
            read = text.iat[row, position]
            assert _same_cell(written, read, column.dtype), (row, position, written, read, data)
        if column.dtype.kind in "iuf" and len(column):
            # The numbers as read_csv parses them by default, not only their text.
            # A float32 column's text reads as float64: compared as the declared float32.
            as_type = column.dtype if column.dtype.kind == "f" else np.dtype("float64")
            parsed = default.iloc[:, position].to_numpy(dtype="float64", na_value=np.nan)
            parsed = parsed.astype(as_type)
            expected = column.to_numpy(dtype=as_type, na_value=np.nan)
            assert np.array_equal(parsed, expected, equal_nan=True), (parsed, expected)


@given(frames())
def test_every_frame_reads_back_with_read_csv_from_either_writer(obj: Any) -> None:
    attachment = _encode(obj)
    _check_reads_back(obj, attachment.data)
    table = _table(obj)
    by_pandas = by_to_csv(table, quote_text=table.shape[1] == 1)
    _check_reads_back(obj, by_pandas)
    # The writers agree on what read_csv loads.
    pd.testing.assert_frame_equal(
        pd.read_csv(io.BytesIO(attachment.data)), pd.read_csv(io.BytesIO(by_pandas))
    )
    text = attachment.describe()
    cells = [str(v) for _, c in table.items() for v in c.dropna() if not isinstance(v, bytes)]
    if table.isna().to_numpy().any() or "" in cells:
        assert "Missing values are written as empty fields, and so are empty strings" in text
    if any(cell in NA_WORDS for cell in cells):
        assert "keep_default_na=False, na_values=['']" in text


_POLARS_COLUMNS = st.sampled_from(["int", "float", "text", "bool", "date"])


@st.composite
def polars_frames(draw: st.DrawFn) -> pl.DataFrame:
    rows = draw(st.integers(0, 10))
    data: dict[str, pl.Series] = {}
    for i in range(draw(st.integers(1, 3))):
        kind = draw(_POLARS_COLUMNS)

        def cells(values: st.SearchStrategy[Any]) -> list[Any]:
            return draw(st.lists(_maybe_missing(values), min_size=rows, max_size=rows))

        name = f"c{i}{draw(_TEXT)}"
        if kind == "int":
            data[name] = pl.Series(cells(st.integers(-(2**63), 2**63 - 1)), dtype=pl.Int64)
        elif kind == "float":
            data[name] = pl.Series(cells(st.floats()), dtype=pl.Float64)
        elif kind == "text":
            data[name] = pl.Series(cells(_TEXT), dtype=pl.String)
        elif kind == "bool":
            data[name] = pl.Series(cells(st.booleans()), dtype=pl.Boolean)
        else:
            data[name] = pl.Series(cells(_TIMESTAMPS), dtype=pl.Datetime("us"))
    return pl.DataFrame(data)


@given(polars_frames())
def test_every_polars_frame_reads_back_with_read_csv(frame: pl.DataFrame) -> None:
    attachment = encode_frame(
        "data",
        frame,
        "polars.DataFrame",
        filename="data.csv",
        column="data",
        cap=10**9,
        sample=None,
        seed=0,
    )
    default = pd.read_csv(io.BytesIO(attachment.data))
    assert default.shape == frame.shape, attachment.data
    text = pd.read_csv(
        io.BytesIO(attachment.data), dtype=str, keep_default_na=False, na_values=[""]
    )
    for position, series in enumerate(frame.iter_columns()):
        for row, written in enumerate(series.to_list()):
            read = text.iat[row, position]
            dtype = {
                pl.Int64: np.dtype("int64"),
                pl.Float64: np.dtype("float64"),
                pl.String: np.dtype("O"),
                pl.Boolean: np.dtype("bool"),
            }.get(series.dtype, np.dtype("M8[us]"))
            if series.dtype == pl.Boolean and written is not None:
                written = bool(written)
                assert _same_cell(written, read, dtype), (row, position, written, read)


# --- the inputs the properties found, as plain regression tests -------------------------


@pytest.mark.parametrize(
    "obj",
    [
        pd.Series([1.0, None, 3.0, None], name="x"),
        pd.Series(["a", "", None, "b"], name="s"),
        pd.DataFrame({"only": pd.array([1, None, 3], dtype="Int64")}),
        pd.Series(pd.Categorical(["x", None]), name="c"),
        pd.Series([" ", "\t", "a"], name="spaces"),
    ],
    ids=[
        "float-series-with-nan",
        "text-with-empty-and-none",
        "nullable-int",
        "categorical",
        "spaces",
    ],
)
def test_a_one_column_frame_with_missing_values_keeps_every_row(obj: Any) -> None:
    data = _encode(obj).data
    assert len(pd.read_csv(io.BytesIO(data))) == len(obj), data


@pytest.mark.parametrize(
    "values", [[1, None, 3, None], ["\t", None, " ", ""]], ids=["nulls", "tab-and-spaces"]
)
def test_a_polars_column_with_nulls_or_spaces_keeps_every_row(values: list[Any]) -> None:
    frame = pl.DataFrame({"x": values})
    attachment = encode_frame(
        "f", frame, "polars.DataFrame", filename="f.csv", column="f", cap=10**6, sample=None, seed=0
    )
    assert len(pd.read_csv(io.BytesIO(attachment.data))) == 4


def test_a_bare_carriage_return_stays_inside_its_cell() -> None:
    frame = pd.DataFrame({"note": ["one\rtwo", "three"], "n": [1, 2]}).astype({"note": object})
    for data in (_encode(frame).data, by_to_csv(_table(frame))):
        read = pd.read_csv(io.BytesIO(data))
        assert read.shape == (2, 2)
        assert read["note"].tolist() == ["one\rtwo", "three"]


def test_a_float_index_name_among_integer_column_labels_is_written() -> None:
    frame = pd.DataFrame({0: [0, 0], 1: [0, 0]}, index=pd.RangeIndex(2, name=1.8e19))
    read = pd.read_csv(io.BytesIO(_encode(frame).data))
    assert read.columns.tolist() == ["1.8e+19", "0", "1"]
    assert read.shape == (2, 3)


def test_a_zoned_date_with_a_local_mean_time_offset_reads_back() -> None:
    when = pd.Timestamp("1911-01-01 00:09:21", tz="UTC").tz_convert("Europe/Paris")
    frame = pd.DataFrame({"t": [when, when], "n": [1, 2]})
    read = pd.read_csv(io.BytesIO(_encode(frame).data))
    assert (pd.to_datetime(read["t"]) == when).all()


def test_a_first_column_named_with_a_byte_order_mark_keeps_its_name() -> None:
    frame = pd.DataFrame({"\ufeffid": [1, 2], "n": [3, 4]})
    for data in (_encode(frame).data, by_to_csv(_table(frame))):
        assert pd.read_csv(io.BytesIO(data)).columns.tolist() == ["\ufeffid", "n"]


def test_a_polars_first_column_named_with_a_byte_order_mark_keeps_its_name() -> None:
    frame = pl.DataFrame({"\ufeffid": [1, 2], "n": [3, 4]})
    attachment = encode_frame(
        "f", frame, "polars.DataFrame", filename="f.csv", column="f", cap=10**6, sample=None, seed=0
    )
    assert pd.read_csv(io.BytesIO(attachment.data)).columns.tolist() == ["\ufeffid", "n"]
