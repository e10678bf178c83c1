"""The prompt: ``{name}`` references and braces, placeholders, inlined objects, hints and
the line that says what was sent.

Pure functions, so they are called directly: no SDK, no network.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pandas as pd
import polars as pl
import pytest

from gemini_magic.errors import AttachmentError, ReferenceNotFound, UsageError
from gemini_magic.inputs import prompt
from gemini_magic.inputs.prompt import Limits, prepare_prompt
from tests.helpers.inputs import attach

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
