"""Which cells the Gemini kernel sends to Gemini: the routing rules, checked directly."""

from __future__ import annotations

import pytest

from gemini_magic.kernel.routing import (
    CellKind,
    as_gemini_cell,
    open_reference,
    prompt_span,
    route,
    strip_py_escape,
)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("Plot {df} and give the mean of each column", CellKind.PROMPT),
        ("x = 1", CellKind.PROMPT),  # plain cells are prompts, even if they look like Python
        ("What is 50% of {total}?", CellKind.PROMPT),
        ("\n%this prompt starts with a percent sign", CellKind.PROMPT),
        ("\n!important: answer in French", CellKind.PROMPT),
        ("%%py\nx = 1", CellKind.PYTHON),
        ("%%py  \nx = 1", CellKind.PYTHON),
        ("%%py", CellKind.PYTHON),
        ("%%python\nx = 1", CellKind.IPYTHON),  # IPython's own subprocess magic, untouched
        ("%%py extra\nx = 1", CellKind.IPYTHON),  # not the escape: IPython reports the magic
        ("%%gemini --model gemini-2.5-pro\nSummarise {df}", CellKind.IPYTHON),
        ("%gemini reset", CellKind.IPYTHON),
        ("%matplotlib inline", CellKind.IPYTHON),
        ("%config InlineBackend.figure_format = 'svg'", CellKind.IPYTHON),
        ("!pip list", CellKind.IPYTHON),
        ("", CellKind.EMPTY),
        ("  \n\t\n", CellKind.EMPTY),
    ],
)
def test_route_kinds(code: str, kind: CellKind) -> None:
    assert route(code).kind is kind


def test_py_escape_body_and_offset_point_into_the_cell() -> None:
    code = "%%py\ndf = load()\n"
    cell = route(code)
    assert cell.body == "df = load()\n"
    assert code[cell.offset :] == cell.body


def test_prompt_becomes_a_gemini_cell_with_the_prompt_as_body() -> None:
    assert as_gemini_cell("Plot {df}") == "%%gemini\nPlot {df}"


def test_strip_py_escape_drops_only_the_escape_line() -> None:
    assert strip_py_escape(["%%py\n", "x = 1\n"]) == ["x = 1\n"]
    assert strip_py_escape(["%%py\n"]) == ["\n"]
    assert strip_py_escape(["x = 1\n", "%%py\n"]) == ["x = 1\n", "%%py\n"]
    assert strip_py_escape(["%%python\n", "x = 1\n"]) == ["%%python\n", "x = 1\n"]


@pytest.mark.parametrize(
    ("code", "start"),
    [
        ("Plot {df}", 0),
        ("%%gemini --model X\nPlot {df}", len("%%gemini --model X\n")),
        ("%%py\nx = {", None),
        ("%gemini reset", None),
        ("%%gemini", None),
    ],
)
def test_prompt_span(code: str, start: int | None) -> None:
    assert prompt_span(code) == start


@pytest.mark.parametrize(
    ("before_cursor", "partial"),
    [
        ("Plot {d", "d"),
        ("Plot {", ""),
        ("Plot {df} and {sal", "sal"),
        ("Plot {df}", None),
        ("Plot {df} and", None),
        ("Use {{literal", None),
        ("Plot {df.col", None),
        ("no braces", None),
    ],
)
def test_open_reference(before_cursor: str, partial: str | None) -> None:
    assert open_reference(before_cursor) == partial
