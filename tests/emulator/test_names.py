"""Names from a request never become code the emulator runs.

The built-in analyst writes Python that the sandbox executes, and that code names
things the request chose: files (a display name can give a sandbox file its extension),
MIME types, CSV columns.  Each is written as a ``repr()`` literal and f-strings name
only variables, so quotes, braces, backslashes or newlines in a name stay text, and
the code still runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
from google import genai
from google.genai import types
from hypothesis import given
from hypothesis import strategies as st

from gemini_magic.emulator.answers.analyst import CsvTable, Plan, code_for
from gemini_magic.emulator.answers.measure import AttachedFile

MODEL = "gemini-2.5-flash"
CODE_EXECUTION = types.GenerateContentConfig(
    tools=[types.Tool(code_execution=types.ToolCodeExecution())]
)
INTENTS = ["plot", "mean", "sum", "min", "max", "count", "describe"]
KINDS = ["image", "text", "pdf", "other"]

#: Names made of whatever breaks code spliced from text, and any other character.
NAME = st.text(
    st.one_of(
        st.sampled_from(list("'\"{}\\\n\r\t#;()=,. fx")),
        st.characters(blacklist_categories=("Cs",)),
    ),
    min_size=1,
    max_size=16,
)


def shape(code: str) -> str:
    """The code's syntax tree with every string constant blanked: what the code does,
    whatever its strings say."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


def analysis(file: str, columns: list[str], mime: str, grouped: bool) -> Plan:
    """Every intent over one table, and one attachment of each other kind."""
    table = CsvTable(
        file,
        columns,
        value_columns=columns[1:],
        group_by=columns[0] if grouped else None,
        mentioned=True,
    )
    others = [AttachedFile(f"{file}{i}", kind, mime) for i, kind in enumerate(KINDS)]
    return Plan(list(INTENTS), [table], histogram=not grouped, files=others)


@given(
    file=NAME,
    columns=st.lists(NAME, min_size=3, max_size=3, unique=True),
    mime=NAME,
    grouped=st.booleans(),
)
def test_any_name_leaves_the_analysts_code_as_it_is_with_plain_names(file, columns, mime, grouped):
    hostile = code_for(analysis(file, columns, mime, grouped))
    plain = code_for(analysis("f", ["a", "b", "c"], "m", grouped))
    assert shape(hostile) == shape(plain)


def escaped(path: Path) -> str:
    r"""``path`` with no slash in it: ``\x2f`` escapes, which Python source would
    decode back into slashes if the name were ever spliced into a string literal."""
    return str(path).replace("/", "\\x2f")


def test_hostile_column_names_are_analysed_and_run_nothing(client: genai.Client, tmp_path):
    marker = tmp_path / "ran"
    group = 'reg"ion{x}'
    price = f'price"); open("{escaped(marker)}", "w"); print("'
    units = "units{open('" + escaped(marker) + "', 'w')}\\"
    frame = pd.DataFrame(
        {group: ["north", "south", "north"], price: [1.5, 2.0, 2.5], units: [3, 4, 5]}
    )
    csv = types.Part.from_bytes(data=frame.to_csv(index=False).encode(), mime_type="text/csv")
    prompt = f"What is the mean of {price} and {units} by {group}?"
    response = client.models.generate_content(
        model=MODEL, contents=[csv, prompt], config=CODE_EXECUTION
    )
    parts = response.candidates[0].content.parts
    [result] = [p.code_execution_result for p in parts if p.code_execution_result]
    assert result.outcome == types.Outcome.OUTCOME_OK, result.output
    lines = result.output.splitlines()
    assert f"mean of {price} for {group}=north: 2" in lines
    assert f"mean of {units} for {group}=south: 4" in lines
    assert not marker.exists()


def test_a_hostile_file_name_and_type_are_measured_and_run_nothing(client: genai.Client, tmp_path):
    marker = tmp_path / "ran"
    # The display name gives the sandbox file its extension (the type is unknown).
    display = f'notes.x"); open("{escaped(marker)}", "w"); print("'
    mime = f'application/x-odd"); open("{escaped(marker)}", "w"); ("{{1}}'
    source = tmp_path / "notes.bin"
    source.write_bytes(b"\x00\x01\x02")
    file = client.files.upload(file=source, config={"mime_type": mime, "display_name": display})
    response = client.models.generate_content(
        model=MODEL, contents=[file, "What is in this file?"], config=CODE_EXECUTION
    )
    parts = response.candidates[0].content.parts
    [result] = [p.code_execution_result for p in parts if p.code_execution_result]
    assert result.outcome == types.Outcome.OUTCOME_OK, result.output
    suffix = display[display.index(".") :]
    assert result.output.strip() == (
        f"input_file_0{suffix}: 3 bytes of {mime}; "
        "the offline emulator cannot read this kind of file"
    )
    assert not marker.exists()
