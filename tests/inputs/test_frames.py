"""DataFrames and Series attached: the CSV the model reads, the size cap and sampling, the
digest.

Pure functions, so they are called directly: no SDK, no network.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from gemini_magic.errors import AttachmentError, UsageError
from gemini_magic.inputs.frames import frame_digest, to_csv_bytes
from gemini_magic.inputs.prompt import Limits, prepare_prompt
from tests.helpers.inputs import attach, read_back

# --- CSV content: round trips -------------------------------------------------------------


def test_awkward_text_survives_the_round_trip() -> None:
    frame = pd.DataFrame(
        {
            "naïve, name": ["a,b", 'say "hi"', "two\nlines", "", None, "€ ü 日本"],
            "x": [1.5, np.nan, 3.0, -0.0, np.inf, 1e-300],
        }
    )
    back = read_back(attach(frame).data)
    assert list(back.columns) == ["naïve, name", "x"]
    assert back["naïve, name"].tolist()[:4] == ["a,b", 'say "hi"', "two\nlines", np.nan]
    assert back["naïve, name"].tolist()[5] == "€ ü 日本"
    np.testing.assert_array_equal(back["x"].to_numpy(), frame["x"].to_numpy())


def test_a_default_index_is_left_out() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3]})
    attachment = attach(frame)
    assert attachment.data.decode().splitlines()[0].replace('"', "") == "a"
    assert attachment.index_columns == 0
    filtered = pd.DataFrame({"a": [5, 6]}, index=pd.Index([0, 1]))
    assert attach(filtered).index_columns == 0


@pytest.mark.parametrize(
    "index",
    [
        pd.Index(["x", "y", "z"]),
        pd.RangeIndex(3, name="row"),
        pd.Index([10, 20, 30]),
        pd.RangeIndex(1, 4),
        pd.date_range("2024-01-01", periods=3, name="when"),
    ],
)
def test_an_index_that_carries_information_is_kept(index: pd.Index) -> None:
    frame = pd.DataFrame({"a": [1.5, 2.5, 3.5]}, index=index)
    attachment = attach(frame)
    assert attachment.index_columns == 1
    assert attachment.columns == 1
    dates = isinstance(index, pd.DatetimeIndex)
    back = read_back(attachment.data, index_col=0, parse_dates=dates)
    assert back.index.tolist() == index.tolist()
    assert back.index.name == (index.name or "index")
    assert back["a"].tolist() == [1.5, 2.5, 3.5]


def test_a_multiindex_on_rows_becomes_leading_columns() -> None:
    frame = pd.DataFrame(
        {"v": [1, 2, 3, 4]},
        index=pd.MultiIndex.from_product([["a", "b"], [2023, 2024]], names=["k", "year"]),
    )
    attachment = attach(frame)
    assert attachment.index_columns == 2
    back = read_back(attachment.data, index_col=[0, 1])
    pd.testing.assert_frame_equal(back, frame, check_index_type=False)


def test_multiindex_columns_get_one_header_row() -> None:
    columns = pd.MultiIndex.from_product([["sales", "cost"], [2023, 2024]])
    frame = pd.DataFrame(np.arange(8).reshape(2, 4), columns=columns)
    back = read_back(attach(frame).data)
    assert list(back.columns) == ["sales_2023", "sales_2024", "cost_2023", "cost_2024"]
    np.testing.assert_array_equal(back.to_numpy(), frame.to_numpy())


def test_duplicate_column_names_are_all_sent() -> None:
    frame = pd.DataFrame([[1, 2, 3]], columns=["a", "a", "b"])
    back = read_back(attach(frame).data)
    assert list(back.columns) == ["a", "a.1", "b"]
    assert back.iloc[0].tolist() == [1, 2, 3]


def test_categorical_tz_aware_mixed_and_bytes_columns_are_written_as_to_csv_writes_them() -> None:
    frame = pd.DataFrame(
        {
            "cat": pd.Categorical(["lo", "hi", "lo"]),
            "when": pd.to_datetime(["2024-01-01 10:00", "2024-06-01 12:30", None]).tz_localize(
                "Europe/Berlin"
            ),
            "mixed": [1, "two", 3.5],
            "raw": [b"\x00a", b"b", None],
            "cells": [[1, 2], {"k": 1}, None],
        }
    )
    attachment = attach(frame)
    assert attachment.data == frame.to_csv(index=False, lineterminator="\n").encode()
    back = read_back(attachment.data)
    assert back["cat"].tolist() == ["lo", "hi", "lo"]
    assert pd.to_datetime(back["when"], utc=True).tolist()[:2] == frame["when"].dropna().tolist()
    assert back["when"][0] == "2024-01-01 10:00:00+01:00"
    assert back["mixed"].tolist() == ["1", "two", "3.5"]
    assert back["raw"].tolist()[:2] == ["b'\\x00a'", "b'b'"]


def test_strings_that_are_not_valid_unicode_are_sent_escaped() -> None:
    frame = pd.DataFrame({"s": pd.Series(["ok", "bad\udcff"], dtype=object)})
    back = read_back(attach(frame).data)
    assert back["s"].tolist() == ["ok", "bad\\udcff"]


def test_an_empty_frame_is_attached_as_its_header() -> None:
    frame = pd.DataFrame({"a": pd.Series([], dtype="int64"), "b": pd.Series([], dtype="str")})
    attachment = attach(frame)
    assert attachment.rows == 0
    assert attachment.summary().startswith("df.csv (0 rows × 2 columns, ")
    back = read_back(attachment.data)
    assert list(back.columns) == ["a", "b"]
    assert len(back) == 0


def test_a_frame_without_columns_is_attached_as_an_empty_header() -> None:
    attachment = attach(pd.DataFrame())
    assert attachment.data == b"\n"
    assert attachment.summary() == "df.csv (0 rows × 0 columns, 1 B)"


def test_a_series_is_one_column_named_after_it_or_its_reference() -> None:
    named = pd.Series([1.0, 2.0], name="price")
    attachment = attach(named, "s")
    assert (attachment.kind, attachment.value_type) == ("frame", "pandas.Series")
    assert read_back(attachment.data).columns.tolist() == ["price"]
    unnamed = pd.Series([1, 2], index=["x", "y"])
    back = read_back(attach(unnamed, "s").data, index_col=0)
    assert back["s"].to_dict() == {"x": 1, "y": 2}


def test_a_polars_frame_is_attached_and_reads_back() -> None:
    frame = pl.DataFrame({"a": [1, None, 3], "b": ["x,y", 'q"', "z"], "c": [0.5, 1.0, None]})
    attachment = attach(frame, "pf")
    assert (attachment.kind, attachment.value_type) == ("frame", "polars.DataFrame")
    assert (attachment.rows, attachment.columns) == (3, 3)
    assert attachment.column_types == (("a", "Int64"), ("b", "String"), ("c", "Float64"))
    back = read_back(attachment.data)
    pd.testing.assert_frame_equal(back, frame.to_pandas(), check_dtype=False)


def test_a_polars_frame_with_nested_columns_is_refused_by_name() -> None:
    frame = pl.DataFrame({"tags": [[1, 2], [3]], "n": [1, 2]})
    with pytest.raises(AttachmentError, match="`tags`"):
        attach(frame, "pf")


# --- size cap and sampling ----------------------------------------------------------------


def _big(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {"id": np.arange(rows), "x": rng.standard_normal(rows), "label": ["abcdefgh"] * rows}
    )


def test_a_frame_clearly_over_the_cap_is_refused_from_an_estimate() -> None:
    frame = _big(200_000)
    with pytest.raises(AttachmentError) as caught:
        prepare_prompt("Model {big}", {"big": frame})
    message = caught.value.message
    exact = len(to_csv_bytes(frame))
    assert "is about " in message
    estimate = float(message.split("is about ")[1].split(" MB")[0])
    assert abs(estimate - exact / 1e6) / (exact / 1e6) < 0.1
    assert "2.0 MB limit" in message
    assert "nothing was sent" in message
    assert "--sample" in caught.value.hint


def test_a_polars_frame_over_the_cap_is_refused_from_an_estimate() -> None:
    frame = pl.from_pandas(_big(200_000))
    with pytest.raises(AttachmentError, match=r"`big` \(200,000 rows\) is about"):
        prepare_prompt("{big}", {"big": frame})


def test_a_frame_just_over_the_cap_is_measured_exactly() -> None:
    frame = _big(5_000)
    size = len(to_csv_bytes(frame))
    with pytest.raises(AttachmentError) as caught:
        prepare_prompt("{big}", {"big": frame}, limits=Limits(max_attachment_bytes=size - 1))
    assert "is about" not in caught.value.message
    assert f"is {size / 1000:.1f} kB" in caught.value.message
    assert attach(frame, "big", max_attachment_bytes=size).data == to_csv_bytes(frame)


def test_the_suggested_sample_fits_under_the_cap() -> None:
    frame = _big(200_000)
    with pytest.raises(AttachmentError) as caught:
        prepare_prompt("{big}", {"big": frame})
    suggested = int(caught.value.hint.split("--sample ")[1].split("`")[0])
    attachment = attach(frame, "big", sample=suggested)
    assert attachment.rows == suggested
    assert len(attachment.data) <= 2_000_000


def test_a_sample_is_seeded_in_original_order_and_said_to_be_a_sample() -> None:
    frame = _big(1_200)
    attachment = attach(frame, "big", sample=100, seed=3)
    assert (attachment.rows, attachment.total_rows) == (100, 1_200)
    back = read_back(attachment.data)
    expected = frame.sample(100, random_state=3).sort_index()
    assert back["id"].tolist() == expected["id"].tolist()
    assert attachment.index_columns == 0
    assert attachment.summary().endswith(", sample of 100 of 1,200 rows)")
    assert "seeded random sample of 100 of its 1,200 rows" in attachment.describe()
    again = attach(frame, "big", sample=100, seed=3)
    assert again.data == attachment.data
    assert attach(frame, "big", sample=100, seed=4).data != attachment.data


def test_a_polars_sample_takes_the_same_rows_as_pandas() -> None:
    frame = _big(1_000)
    pandas_ids = read_back(attach(frame, "big", sample=50).data)["id"].tolist()
    polars_ids = read_back(attach(pl.from_pandas(frame), "big", sample=50).data)["id"].tolist()
    assert polars_ids == pandas_ids


def test_a_frame_smaller_than_the_sample_is_sent_whole_and_the_summary_says_so() -> None:
    frame = _big(50)
    attachment = attach(frame, "big", sample=100)
    assert attachment.rows == attachment.total_rows == 50
    assert attachment.summary().endswith(", whole: it has no more than --sample 100 rows)")
    assert "sample" not in attachment.describe()


def test_a_sample_still_over_the_cap_is_refused_as_a_sample() -> None:
    frame = _big(200_000)
    with pytest.raises(AttachmentError, match="a sample of 150,000 of its 200,000 rows"):
        prepare_prompt("{big}", {"big": frame}, sample=150_000)


def test_a_non_positive_sample_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--sample"):
        prepare_prompt("{x}", {"x": 1}, sample=0)


# --- content hash -------------------------------------------------------------------------


def test_the_digest_is_stable_and_follows_every_change(sales: pd.DataFrame) -> None:
    digest = frame_digest(sales)
    assert frame_digest(sales.copy()) == digest
    changed_value = sales.copy()
    changed_value.loc[7, "units"] = 1_000
    renamed = sales.rename(columns={"units": "qty"})
    retyped = sales.astype({"units": "float64"})
    reindexed = sales.set_axis(range(1, 121))
    reordered = sales[["units", "region", "price", "day"]]
    digests = {digest} | {
        frame_digest(f) for f in (changed_value, renamed, retyped, reindexed, reordered)
    }
    assert len(digests) == 6
    assert attach(sales, "sales").digest == digest


def test_the_digest_of_unhashable_cells_falls_back_to_the_csv() -> None:
    frame = pd.DataFrame({"cells": [[1, 2], {"k": 1}]})
    assert frame_digest(frame) == frame_digest(frame.copy())
    assert frame_digest(frame) != frame_digest(pd.DataFrame({"cells": [[1, 3], {"k": 1}]}))


def test_series_and_polars_digests_follow_their_content() -> None:
    series = pd.Series([1, 2, 3], name="a")
    assert frame_digest(series) == frame_digest(series.copy())
    assert frame_digest(series) != frame_digest(series.rename("b"))
    frame = pl.DataFrame({"a": [1, 2]})
    assert frame_digest(frame) == frame_digest(frame.clone())
    assert frame_digest(frame) != frame_digest(pl.DataFrame({"a": [1, 3]}))
    assert frame_digest(frame) != frame_digest(pl.DataFrame({"a": [1.0, 2.0]}))
