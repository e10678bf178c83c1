"""``{name}`` references and DataFrame attachments: what a prompt sends, and what it refuses.

Pure functions, so they are called directly: no SDK, no network.
"""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import numpy as np
import pandas as pd
import polars as pl
import pytest

from gemini_magic.errors import AttachmentError, ReferenceNotFound, UsageError
from gemini_magic.inputs import prompt
from gemini_magic.inputs.frames import frame_digest, to_csv_bytes
from gemini_magic.inputs.prompt import Limits, prepare_prompt
from gemini_magic.inputs.writers import pandas_csv


def read_back(data: bytes, **kwargs: object) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), **kwargs)


def attach(obj: object, name: str = "df", **kwargs: object):
    """The one attachment ``{name}`` makes; ``max_*`` keywords set the Limits."""
    limits = {k: kwargs.pop(k) for k in list(kwargs) if k.startswith("max_")}
    prepared = prepare_prompt(f"Look at {{{name}}}", {name: obj}, limits=Limits(**limits), **kwargs)
    assert len(prepared.attachments) == 1
    return prepared.attachments[0]


@pytest.fixture
def sales() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["North", "South", "East", "West"] * 30,
            "units": np.arange(120),
            "price": np.linspace(1.0, 2.0, 120),
            "day": pd.date_range("2024-01-01", periods=120, freq="D"),
        }
    )


# --- the module stays light ---------------------------------------------------------------


def test_importing_the_module_imports_no_data_library() -> None:
    code = textwrap.dedent(
        """
        import sys
        import gemini_magic.inputs.prompt as a
        p = a.prepare_prompt("hello {x}", {"x": 1})
        heavy = sorted(m for m in ("pandas", "pyarrow", "polars", "numpy") if m in sys.modules)
        print(p.text, heavy)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "hello 1 []"


# --- references and braces ----------------------------------------------------------------


def test_double_braces_are_literal_and_not_references() -> None:
    prepared = prepare_prompt('Answer as JSON like {{"a": 1}} for {{x}}', {"x": 5})
    assert prepared.text == 'Answer as JSON like {"a": 1} for {x}'
    assert prepared.attachments == ()


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("Plot {} now", ["Empty reference", "line 1, column 6"]),
        ("Plot { } now", ["Empty reference", "column 6"]),
        ("Sum {1+2} now", ["`{1+2}`", "not a variable name", "column 5"]),
        ("Use {a b}", ["`{a b}`", "not a variable name"]),
        ("Use {df.x()}", ["not a variable name", "a call is not allowed"]),
        ("Use {df[1:2]}", ["not a variable name", "a slice is not allowed"]),
        ("Use {df[k]}", ["not a variable name", "the index `k`"]),
        ("Use {df.__class__}", ["not a variable name", "starts with `__`"]),
        ("Use {df!r}", ["not a variable name"]),
        ("first line\nthen {sales and more", ["Unclosed `{`", "line 2, column 6"]),
        ("Use {sales\n}", ["Unclosed `{`", "line 1, column 5"]),
        ("a stray } here", ["Unmatched `}`", "line 1, column 9", "near `a stray } here`"]),
        ("Use {for}", ["not a variable name"]),
    ],
)
def test_bad_braces_are_a_usage_error_naming_the_problem_and_where(
    template: str, words: list[str]
) -> None:
    with pytest.raises(UsageError) as caught:
        prepare_prompt(template, {"sales": 1, "a": 1, "df": 1})
    for word in words:
        assert word in caught.value.message
    assert "{{" in caught.value.hint


@pytest.mark.parametrize("template", ["", "   ", "\n\t\n"])
def test_an_empty_prompt_is_a_usage_error(template: str) -> None:
    with pytest.raises(UsageError, match="empty"):
        prepare_prompt(template, {})


def test_a_prompt_of_several_megabytes_is_refused_with_its_size() -> None:
    with pytest.raises(UsageError) as caught:
        prepare_prompt("x" * 3_000_000, {})
    assert "3,000,000 characters" in caught.value.message
    assert "1,000,000" in caught.value.message


def test_a_prompt_that_grows_past_the_limit_by_its_references_is_refused() -> None:
    namespace = {"a": "y" * 600, "b": "z" * 600}
    with pytest.raises(UsageError, match="1,2"):
        prepare_prompt("{a}{b}", namespace, limits=Limits(max_prompt_chars=1_000))


def test_an_unknown_name_is_reported_with_a_close_match() -> None:
    with pytest.raises(ReferenceNotFound) as caught:
        prepare_prompt("Plot {slaes}", {"sales": pd.DataFrame({"a": [1]}), "other": 1})
    assert "`{slaes}`" in caught.value.message
    assert "nothing was sent" in caught.value.message
    assert caught.value.hint == "Did you mean `sales`?"


def test_an_unknown_name_fails_before_any_frame_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[str] = []
    monkeypatch.setattr(prompt, "_attach", lambda ref, *a, **k: built.append(ref))
    with pytest.raises(ReferenceNotFound, match="missing"):
        prepare_prompt("{frame} and {missing}", {"frame": pd.DataFrame({"a": [1]})})
    assert built == []


def test_a_missing_attribute_is_reported_on_its_path() -> None:
    obj = SimpleNamespace(frame=pd.DataFrame({"a": [1]}))
    with pytest.raises(ReferenceNotFound) as caught:
        prepare_prompt("{obj.fraem}", {"obj": obj})
    assert "`obj` has no attribute `fraem`" in caught.value.message
    assert caught.value.hint == "Did you mean `frame`?"


def test_an_attribute_that_raises_is_an_attachment_error() -> None:
    class Broken:
        @property
        def frame(self) -> pd.DataFrame:
            raise RuntimeError("database is down")

    with pytest.raises(AttachmentError, match="database is down"):
        prepare_prompt("{obj.frame}", {"obj": Broken()})


# --- placeholders, inlined objects and hints ----------------------------------------------


def test_a_frame_reference_becomes_its_file_name_and_is_attached_once(
    sales: pd.DataFrame,
) -> None:
    prepared = prepare_prompt("Total of {sales} by region; chart {sales}", {"sales": sales})
    assert prepared.text == "Total of sales.csv by region; chart sales.csv"
    assert [a.filename for a in prepared.attachments] == ["sales.csv"]
    assert prepared.attachments[0].name == "sales"


def test_a_dotted_reference_attaches_the_attribute(sales: pd.DataFrame) -> None:
    obj = SimpleNamespace(frame=sales)
    prepared = prepare_prompt("Describe {obj.frame}", {"obj": obj})
    assert prepared.text == "Describe obj.frame.csv"
    (attachment,) = prepared.attachments
    assert attachment.name == "obj.frame"
    assert attachment.rows == 120


def test_other_objects_are_pasted_as_their_str() -> None:
    prepared = prepare_prompt(
        "Threshold {t}, label {obj.label}", {"t": 0.25, "obj": SimpleNamespace(label="high")}
    )
    assert prepared.text == "Threshold 0.25, label high"
    assert prepared.attachments == ()


def test_a_long_str_is_cut_with_a_visible_note() -> None:
    prepared = prepare_prompt(
        "Notes: {notes}",
        {"notes": "a" * 1_234_567 + "b" * 10},
        limits=Limits(max_inline_chars=10),
    )
    assert prepared.text == "Notes: aaaaaaaaaa… [cut: 1,234,567 more characters of str(notes)]"


def test_a_failing_str_is_an_attachment_error() -> None:
    class NoStr:
        def __str__(self) -> str:
            raise ValueError("no text form")

    with pytest.raises(AttachmentError, match="no text form"):
        prepare_prompt("{x}", {"x": NoStr()})


def test_a_frame_named_without_braces_gets_a_hint_and_is_not_sent(sales: pd.DataFrame) -> None:
    namespace = {"sales": sales, "s": sales["units"], "_hidden": sales, "salesman": "Bob"}
    prepared = prepare_prompt("What is in sales? Ask salesman, s and _hidden", namespace)
    assert prepared.attachments == ()
    assert prepared.hints == (
        "`sales` is a DataFrame here: write `{sales}` to attach it.",
        "`s` is a Series here: write `{s}` to attach it.",
    )
    assert prepared.sent_summary().startswith("Sent: the prompt text (")


def test_no_hint_for_a_frame_that_is_also_referenced(sales: pd.DataFrame) -> None:
    prepared = prepare_prompt("Is {sales} sorted? sales looks odd", {"sales": sales})
    assert prepared.hints == ()


def test_a_polars_frame_named_without_braces_gets_a_hint() -> None:
    prepared = prepare_prompt("what about pf", {"pf": pl.DataFrame({"a": [1]})})
    assert prepared.hints == ("`pf` is a polars DataFrame here: write `{pf}` to attach it.",)


# --- what was sent -----------------------------------------------------------------------


def test_the_summary_says_file_shape_and_size(sales: pd.DataFrame) -> None:
    attachment = attach(sales, "sales")
    size = len(attachment.data)
    assert 1_000 < size < 10_000
    assert attachment.summary() == f"sales.csv (120 rows × 4 columns, {size / 1000:.1f} kB)"
    prepared = prepare_prompt("Look at {sales}", {"sales": sales})
    assert prepared.sent_summary() == (
        f"Sent: {attachment.summary()} and the prompt text (17 characters)."
    )


def test_a_prompt_without_frames_says_nothing_else_was_sent() -> None:
    assert prepare_prompt("hello", {}).sent_summary() == (
        "Sent: the prompt text (5 characters), no attachments."
    )


def test_the_description_tells_the_model_file_variable_shape_and_types(
    sales: pd.DataFrame,
) -> None:
    text = attach(sales.set_index("day"), "sales").describe()
    assert "`sales.csv` holds the pandas DataFrame `sales`" in text
    assert "120 rows × 3 columns plus 1 index column first" in text
    assert "working directory of the code-execution sandbox" in text
    assert "day: datetime64[us], region: str, units: int64, price: float64" in text
    assert "sample" not in text


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


# --- pyarrow's writer agrees with to_csv --------------------------------------------------


def _mixes() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(7)
    n = 500
    floats = rng.standard_normal(n) * 10.0 ** rng.integers(-20, 20, n)
    floats[::17] = np.nan
    return {
        "numbers": pd.DataFrame(
            {
                "f": floats,
                "f32": rng.standard_normal(n).astype("float32"),
                "i": rng.integers(-(2**62), 2**62, n),
                "u8": rng.integers(0, 255, n).astype("uint8"),
                "integral_floats": np.where(np.arange(n) % 5 == 0, np.nan, np.arange(n) * 1.0),
                "b": rng.random(n) > 0.5,
            }
        ),
        "text": pd.DataFrame(
            {
                "plain": [f"item {i}" for i in range(n)],
                "awkward": [
                    ["a,b", 'q"q', "l\nl", "", None, "ü€", " pad "][i % 7] for i in range(n)
                ],
                "objstr": pd.Series([f"o{i}" if i % 3 else None for i in range(n)], dtype=object),
                "numbers_as_text": [f"{i:03d}" for i in range(n)],
            }
        ),
        "dates": pd.DataFrame(
            {
                "day": pd.date_range("1990-01-01", periods=n, freq="D"),
                "second": pd.date_range("2024-01-01", periods=n, freq="37s"),
                "milli": pd.date_range("2024-01-01", periods=n, freq="1500ms"),
                "nano": pd.date_range("2024-01-01", periods=n, freq="1ns"),
                "with_gaps": pd.Series(pd.date_range("2024-01-01", periods=n, freq="h")).where(
                    np.arange(n) % 4 != 0
                ),
            }
        ),
        "nullable": pd.DataFrame(
            {
                "I": pd.array([i if i % 3 else None for i in range(n)], dtype="Int64"),
                "F": pd.array([i / 4 if i % 3 else None for i in range(n)], dtype="Float64"),
                "B": pd.array([bool(i % 2) if i % 3 else None for i in range(n)], dtype="boolean"),
                "S": pd.array(
                    [f"s{i}" if i % 3 else None for i in range(n)], dtype="string[python]"
                ),
            }
        ),
    }


@pytest.mark.parametrize("mix", sorted(_mixes()))
def test_pyarrow_text_reads_back_as_to_csv_text_does(mix: str) -> None:
    frame = _mixes()[mix]
    data, writer = pandas_csv(frame)
    assert writer == "pyarrow"
    dates = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    reference = frame.to_csv(index=False, lineterminator="\n").encode()
    ours = read_back(data, parse_dates=dates)
    theirs = read_back(reference, parse_dates=dates)
    pd.testing.assert_frame_equal(ours, theirs)


def test_pyarrow_is_left_alone_for_types_it_would_write_differently() -> None:
    for column in (
        pd.Categorical(["a", "b"]),
        pd.to_datetime(["2024-01-01", "2024-01-02"]).tz_localize("UTC"),
        pd.to_timedelta([1, 2], unit="s"),
        [1, "x"],
        [b"a", b"b"],
        [1 + 2j, 3j],
        np.array([1, 2], dtype="float16"),
    ):
        frame = pd.DataFrame({"c": column})
        assert pandas_csv(frame)[1] == "pandas"


def test_to_csv_bytes_writes_the_whole_frame_with_its_informative_index() -> None:
    frame = pd.DataFrame({"a": range(5_000)}, index=pd.RangeIndex(5_000, name="n"))
    back = read_back(to_csv_bytes(frame), index_col=0)
    pd.testing.assert_frame_equal(back, frame, check_index_type=False)
    with pytest.raises(TypeError):
        to_csv_bytes([1, 2])


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
