"""References that index: ``{frames['jan']}``, ``{Out[3]}``, ``{runs[0].table}``.

Pure functions on real objects: what a reference resolves to, the file name it gets, and
the error (type and words) for everything that is not allowed or not there.  The last
test goes through %%gemini on both APIs and reads the request log.
"""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pandas as pd
import pytest

from gemini_magic.errors import AttachmentError, ReferenceNotFound, UsageError
from gemini_magic.inputs.prompt import prepare_prompt
from gemini_magic.inputs.references import Attribute, Key, parse_template
from tests.helpers.magic import run_cell
from tests.helpers.wire import media, prompt_requests


@pytest.fixture
def namespace() -> dict[str, object]:
    jan = pd.DataFrame({"units": [1, 2, 3]})
    return {
        "frames": {"jan": jan, "mar": pd.DataFrame({"units": [4]})},
        "Out": {3: pd.Series([10, 20], name="total")},
        "runs": [SimpleNamespace(table=jan), SimpleNamespace(table=jan.head(1))],
        "df": pd.DataFrame({"price": [1.5, 2.5], "qty": [1, 2]}),
        "count": 7,
    }


def test_a_reference_parses_into_its_name_attributes_and_literal_keys() -> None:
    (ref,) = parse_template("{ runs[0].table['x'] }")
    assert (ref.text, ref.head) == ("runs[0].table['x']", "runs")
    assert ref.steps == (Key(0), Attribute("table"), Key("x"))
    assert ref.stem == "runs_0.table_x"


def test_indexed_references_attach_under_derived_file_names(namespace: dict) -> None:
    prepared = prepare_prompt(
        "Compare {frames['jan']} with {frames[\"jan\"]}, {Out[3]}, {runs[1].table}, {runs[-1]}",
        namespace,
    )
    names = [(a.name, a.filename) for a in prepared.attachments]
    assert names == [
        ("frames['jan']", "frames_jan.csv"),
        ("Out[3]", "Out_3.csv"),
        ("runs[1].table", "runs_1.table.csv"),
    ]
    # One reference written two ways is attached once; a non-frame is pasted as str().
    assert prepared.text.startswith("Compare frames_jan.csv with frames_jan.csv, Out_3.csv, ")
    assert "namespace(table=" in prepared.text
    assert prepared.attachments[0].rows == 3
    assert "`frames['jan']`" in prepared.attachments[0].describe()


def test_a_column_of_a_frame_is_a_series_named_after_its_key(namespace: dict) -> None:
    (attachment,) = prepare_prompt("Plot {df['price']}", namespace).attachments
    assert (attachment.filename, attachment.value_type) == ("df_price.csv", "pandas.Series")
    back = pd.read_csv(io.BytesIO(attachment.data))
    assert back.to_dict("list") == {"price": [1.5, 2.5]}


def test_keys_with_odd_characters_make_plain_file_names() -> None:
    frames = {"sales 2024/Q1": pd.DataFrame({"a": [1]}), "": pd.DataFrame({"a": [2]})}
    prepared = prepare_prompt("{frames['sales 2024/Q1']} {frames['']}", {"frames": frames})
    assert [a.filename for a in prepared.attachments] == [
        "frames_sales_2024_Q1.csv",
        "frames_key.csv",
    ]


def test_two_references_with_one_file_name_get_distinct_names() -> None:
    frame = pd.DataFrame({"a": [1]})
    prepared = prepare_prompt("{a_b} and {a['b']}", {"a_b": frame, "a": {"b": frame}})
    assert [a.filename for a in prepared.attachments] == ["a_b.csv", "a_b_2.csv"]
    assert prepared.text == "a_b.csv and a_b_2.csv"
    assert [a.position for a in prepared.attachments] == [0, 1]


def test_a_missing_key_names_it_and_lists_the_keys(namespace: dict) -> None:
    with pytest.raises(ReferenceNotFound) as caught:
        prepare_prompt("{frames['feb']}", namespace)
    assert "`frames` has no key 'feb'; keys: 'jan', 'mar'" in caught.value.message
    assert "nothing was sent" in caught.value.message
    with pytest.raises(ReferenceNotFound) as caught:
        prepare_prompt("{frames['jna']}", namespace)
    assert caught.value.hint == "Did you mean `jan`?"


def test_a_missing_integer_key_and_a_column_are_named(namespace: dict) -> None:
    with pytest.raises(ReferenceNotFound, match=r"`Out` has no key 4; keys: 3"):
        prepare_prompt("{Out[4]}", namespace)
    with pytest.raises(ReferenceNotFound, match=r"`df` has no key 'cost'; keys: 'price', 'qty'"):
        prepare_prompt("{df['cost']}", namespace)


def test_an_index_out_of_range_says_how_many_items_there_are(namespace: dict) -> None:
    with pytest.raises(ReferenceNotFound, match=r"`runs` has no index 5: it has 2 items"):
        prepare_prompt("{runs[5].table}", namespace)


def test_a_missing_attribute_after_an_index_is_reported_on_its_path(namespace: dict) -> None:
    with pytest.raises(ReferenceNotFound) as caught:
        prepare_prompt("{runs[0].tabel}", namespace)
    assert "`runs[0]` has no attribute `tabel`" in caught.value.message
    assert caught.value.hint == "Did you mean `table`?"


def test_indexing_what_cannot_be_indexed_is_an_attachment_error(namespace: dict) -> None:
    with pytest.raises(AttachmentError, match=r"`count` \(int\) cannot be indexed with 0"):
        prepare_prompt("{count[0]}", namespace)


def test_an_index_that_raises_is_an_attachment_error() -> None:
    class Broken:
        def __getitem__(self, key: object) -> object:
            raise RuntimeError("backend offline")

    with pytest.raises(AttachmentError, match=r"Reading `b\['x'\]` raised RuntimeError"):
        prepare_prompt("{b['x']}", {"b": Broken()})


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{frames.get('jan')}", "a call is not allowed"),
        ("{runs[0:1]}", "a slice is not allowed"),
        ("{frames[name]}", "the index `name` (only a literal string or integer) is not allowed"),
        ("{runs[True]}", "the index `True`"),
        ("{runs[1.5]}", "the index `1.5`"),
        ("{runs[0, 1]}", "the index `(0, 1)`"),
        ("{count + 1}", "an expression is not allowed"),
        ("{'text'}", "a literal value is not allowed"),
        ("{df.__dict__}", "the attribute `__dict__`, which starts with `__`,"),
    ],
)
def test_anything_but_names_attributes_and_literal_keys_is_refused(
    namespace: dict, template: str, reason: str
) -> None:
    with pytest.raises(UsageError) as caught:
        prepare_prompt(f"Use {template}", namespace)
    assert type(caught.value) is UsageError
    assert f"`{template}` at line 1, column 5 (near `Use {template}" in caught.value.message
    assert "is not a variable name" in caught.value.message
    assert reason in caught.value.message
    assert "`{frames['jan']}`" in caught.value.message
    assert "nothing in braces runs" in caught.value.message


def test_ipython_output_names_are_references() -> None:
    frame = pd.DataFrame({"a": [1]})
    prepared = prepare_prompt("{_} {__} {_3}", {"_": frame, "__": frame, "_3": frame})
    assert [a.filename for a in prepared.attachments] == ["_.csv", "__.csv", "_3.csv"]


# --- through %%gemini, on both APIs ------------------------------------------------------


def test_an_indexed_reference_attaches_that_item(any_api, emulator):
    any_api.user_ns["frames"] = {"jan": pd.DataFrame({"v": [1]}), "mar": pd.DataFrame({"v": [3]})}
    assert run_cell(any_api, "%%gemini\nSummarise {frames['jan']}.").success
    ((mime, data),) = media(prompt_requests(emulator)[-1])
    assert mime == "text/csv"
    pd.testing.assert_frame_equal(pd.read_csv(io.BytesIO(data)), pd.DataFrame({"v": [1]}))
    assert "frames_jan.csv" in json.dumps(prompt_requests(emulator)[-1].body)
