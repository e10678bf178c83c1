"""Generated prompt templates: ``{...}`` references, literal braces and everything between.

Whatever the prompt text (names, attributes, keys, ``Out[3]``, ``{{``/``}}``, unbalanced
braces, unicode names, keywords, expressions, null bytes, deep nesting), preparing it
either raises one of our errors or attaches exactly the values it names: never a crash
that is not ours, never an attachment the prompt did not name.  Preparing is a pure
function of the template and the namespace, so an error sends nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gemini_magic.errors import GeminiMagicError, UsageError
from gemini_magic.inputs.prompt import prepare_prompt

pytestmark = pytest.mark.properties

_SALES = pd.DataFrame({"region": ["north", "south"], "units": [3, 5]})
_NAMESPACE = {
    "sales": _SALES,
    "frames": {"jan": _SALES.head(1), "feb": _SALES, 3: _SALES},
    "Out": {3: _SALES["units"], 4: "text"},
    "obj": SimpleNamespace(frame=_SALES, n=3, inner=SimpleNamespace(frame=_SALES)),
    "runs": [SimpleNamespace(table=_SALES), 2],
    "n": 42,
    "text": "hello {not a reference}",
    "données": _SALES.tail(1),
    "s": pd.Series([1.5, None], name="s"),
    "secret": pd.DataFrame({"never": ["sent unless named"]}),
}

_NAMES = st.one_of(
    st.sampled_from([*_NAMESPACE, "missing", "class", "None", "lambda", "π", "_x", "x1", "Out"]),
    st.from_regex(r"[^\W\d]\w{0,6}", fullmatch=True),
)
_STEPS = st.sampled_from(
    [
        ".frame",
        ".n",
        ".inner",
        ".nope",
        "['jan']",
        '["feb"]',
        "[3]",
        "[-1]",
        "[0]",
        "[99]",
        "[1:2]",
        "(1)",
        ".__class__",
        "[x]",
        " ",
        "+1",
        ".table",
        "['a\\'b']",
        "[True]",
    ]
)
_REFERENCES = st.builds(
    lambda name, steps, repeat, pad: "{" + pad + name + "".join(steps) * repeat + pad + "}",
    _NAMES,
    st.lists(_STEPS, max_size=3),
    st.one_of(st.just(1), st.integers(1, 3000)),
    st.sampled_from(["", " ", "\t"]),
)
_LITERAL = st.one_of(
    st.text(st.characters(exclude_characters="{}"), max_size=10),
    st.sampled_from(["{{", "}}", "{", "}", "{}", "{ }", "{\n}", "{a\nb}", "\x00", "{\x00}"]),
    st.text(max_size=6),
)
_TEMPLATES = st.lists(st.one_of(_REFERENCES, _LITERAL), min_size=1, max_size=6).map("".join)


@given(_TEMPLATES)
def test_a_prompt_attaches_only_what_it_names_or_fails_with_our_error(template: str) -> None:
    try:
        prepared = prepare_prompt(template, _NAMESPACE, cwd=Path("/nonexistent"))
    except GeminiMagicError:
        return
    # Every attachment is a value one of the template's own references names.
    # Scanned as the docs define it: `{{` and `}}` are literal, `{...}` on a line names.
    tokens = re.finditer(r"\{\{|\}\}|\{([^{}\n]*)\}|[{}]", template)
    named = {m.group(1).strip() for m in tokens if m.group(1) is not None}
    for attachment in prepared.attachments:
        assert attachment.name in named, (attachment.name, template)
    assert "sent unless named" not in prepared.text or "{secret" in template.replace(" ", "")
    assert len({a.filename for a in prepared.attachments}) == len(prepared.attachments)


# --- the inputs the property found, as plain regression tests --------------------------


@pytest.mark.parametrize(
    "template",
    [
        "{\x00}",
        "{a\x00b}",
        "{" + "a." * 5000 + "b}",
        "{a" + "[0]" * 5000 + "}",
        "{a[" + "-" * 5000 + "1]}",
        "{" + "(" * 300 + "a" + ")" * 300 + "}",
    ],
    ids=["null-byte", "null-inside", "5000-attributes", "5000-indices", "5000-minus", "parens"],
)
def test_a_reference_python_cannot_parse_is_a_usage_error(template: str) -> None:
    with pytest.raises(UsageError):
        prepare_prompt(f"Look at {template}", {"a": 1}, cwd=Path("/nonexistent"))
