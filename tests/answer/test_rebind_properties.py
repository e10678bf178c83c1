"""Generated sandbox code, rewritten by ``%gemini run`` onto the user's live objects.

Code with no read of an attached file comes back as it was (the same syntax tree); code
with reads, run on the live object, gives what the original gave on the attached CSV in a
folder, as the sandbox ran it.
"""

from __future__ import annotations

import ast
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gemini_magic.answer.rebind import HEADER, Binding, rebind
from gemini_magic.inputs.prompt import prepare_prompt

pytestmark = pytest.mark.properties

_IMPORTS = (
    "import io\nimport pandas as pd\nfrom pathlib import Path\nimport os\n"
    "from pandas import read_csv as rc\n"
)
# Reads of the attached file, each giving a value named ``result``.
_READS = [
    "result = pd.read_csv({f})",
    "result = rc({f})",
    "result = pd.read_csv({f}, usecols=[0])",
    "result = pd.read_csv({f}, nrows=2)",
    "result = pd.read_csv({f}, header=None)",
    "result = pd.read_csv({f}, index_col=0)",
    "result = pd.read_csv({f}, skiprows=1, header=None)",
    "result = pd.read_csv({f}, dtype=str)",
    "result = open({f}).read()",
    "result = open({f}, 'rb').read()",
    "with open({f}) as handle:\n    result = handle.readline()",
    "result = Path({f}).read_text()",
    "result = Path({f}).read_bytes()",
    "result = pd.read_csv(io.StringIO(open({f}).read()))",
    "path = {f}\nresult = pd.read_csv(path)",
    "result = pd.read_csv(os.path.join('.', {f}))",
    "result = pd.read_csv(Path({f}))",
]
_NAMES = st.sampled_from(["'sales.csv'", '"input_file_0.csv"', "'./sales.csv'"])
# Statements that read no attached file (a name never attached, or no file at all).
_OTHER = st.sampled_from(
    [
        "x = 1",
        "print('sales.csv')",
        "label = 'sales.csv'.upper()",
        "y = [i * 2 for i in range(3)]",
        "def f(a, b=2):\n    return a + b",
        "z = f(1) if 'f' in dir() else 0",
        "other = 'other.csv'",
        "try:\n    pd.read_csv('other.csv')\nexcept FileNotFoundError:\n    pass",
        "# a comment about sales.csv",
        "class C:\n    n = 'input_file_0.csv'",
        "s = {'sales.csv': 1}['sales.csv']",
        "lam = lambda p='sales.csv': p",
        "w = (yield_ := 3)",
        "async def g():\n    await h()",
        "q = f'{1 + 1}sales.csv'",
    ]
)


@given(st.lists(_OTHER, min_size=1, max_size=6))
def test_code_with_no_read_of_an_attached_file_comes_back_as_it_was(lines: list[str]) -> None:
    code = _IMPORTS + "\n".join(lines) + "\n"
    rebound = rebind(code, [Binding(("sales.csv", "input_file_0.csv"), "sales")])
    body = "\n".join(line for line in rebound.code.splitlines() if not line.startswith(HEADER))
    assert ast.dump(ast.parse(body)) == ast.dump(ast.parse(code))
    assert rebound.bound == ()


# Words read_csv keeps as text: not NA words (`null`), booleans (`true`) or numbers (`inf`),
# which the sandbox's plain read turns into other values (the live object keeps the text).
_WORDS = st.text(st.characters(min_codepoint=97, max_codepoint=122), max_size=6).map("w".__add__)


@st.composite
def sales_frames(draw: st.DrawFn) -> pd.DataFrame:
    """Frames whose CSV reads back to the same frame (what a plain read must equal)."""
    rows = draw(st.integers(3, 8))
    return pd.DataFrame(
        {
            "region": draw(st.lists(_WORDS, min_size=rows, max_size=rows)),
            "amount": draw(st.lists(st.integers(-(10**12), 10**12), min_size=rows, max_size=rows)),
            "share": draw(
                st.lists(
                    st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: int(v) + 0.5 + v % 1e-3),
                    min_size=rows,
                    max_size=rows,
                )
            ),
        }
    )


@given(
    sales_frames(),
    st.sampled_from(_READS),
    _NAMES,
    st.lists(_OTHER, max_size=2),
)
def test_rewritten_reads_on_the_live_object_give_what_the_sandbox_got(
    sales: pd.DataFrame, read: str, name: str, others: list[str]
) -> None:
    code = _IMPORTS + "\n".join([*others, read.format(f=name)]) + "\n"
    attachment = prepare_prompt("{sales}", {"sales": sales}).attachments[0]
    rebound = rebind(code, [Binding.for_attachment(attachment, 0)])
    assert rebound.bound, rebound.code
    live = _run(rebound.code, {"sales": sales})
    for filename in ("sales.csv", "input_file_0.csv"):
        Path(_SANDBOX.name, filename).write_bytes(attachment.data)
    here = os.getcwd()
    os.chdir(_SANDBOX.name)
    try:
        sandbox = _run(code, {})
    finally:
        os.chdir(here)
    _assert_same(live["result"], sandbox["result"])


#: The sandbox's working folder, one for all examples: each writes the files anew.
_SANDBOX = tempfile.TemporaryDirectory()


def _run(code: str, namespace: dict[str, Any]) -> dict[str, Any]:
    exec(compile(code, "<code>", "exec"), namespace)
    return namespace


def _assert_same(live: Any, sandbox: Any) -> None:
    if isinstance(sandbox, pd.DataFrame):
        pd.testing.assert_frame_equal(live, sandbox)
    else:
        assert live == sandbox
