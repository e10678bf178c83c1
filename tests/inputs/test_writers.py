"""The CSV writers: pyarrow's text reads back as ``to_csv``'s does, and is left alone
where it would write differently (pure: no SDK, no network).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gemini_magic.inputs.frames import to_csv_bytes
from gemini_magic.inputs.writers import pandas_csv
from tests.helpers.inputs import read_back

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
