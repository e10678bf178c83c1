"""The built-in analyst on CSVs the tests write: its figures are pandas' own."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from google import genai
from google.genai import types
from PIL import Image

from gemini_magic.emulator.answers.analyst import plan
from gemini_magic.emulator.wire.codec import Attachment

MODEL = "gemini-2.5-flash"
CODE_EXECUTION = types.GenerateContentConfig(
    tools=[types.Tool(code_execution=types.ToolCodeExecution())]
)


def fmt(value: float) -> str:
    """The analyst's documented number format: whole numbers as is, else 4 decimals."""
    value = float(value)
    return str(int(value)) if value.is_integer() else str(round(value, 4))


@pytest.fixture
def sales() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["north", "south", "east", "north", "south", "north", "east"],
            "price": [10.5, 3.25, 7.125, 1.0 / 3.0, 99.0, 12.75, 5.5],
            "units": [3, 14, 2, 8, 1, 5, 9],
        }
    )


def ask(client: genai.Client, frame: pd.DataFrame, prompt: str) -> list[types.Part]:
    csv = types.Part.from_bytes(data=frame.to_csv(index=False).encode(), mime_type="text/csv")
    response = client.models.generate_content(
        model=MODEL, contents=[csv, prompt], config=CODE_EXECUTION
    )
    return response.candidates[0].content.parts


def result_lines(parts: list[types.Part]) -> list[str]:
    [result] = [p.code_execution_result for p in parts if p.code_execution_result]
    assert result.outcome == types.Outcome.OUTCOME_OK, result.output
    return result.output.splitlines()


def test_several_intents_at_once_print_pandas_own_figures(client, sales):
    parts = ask(client, sales, "What are the mean, sum, min and max of price, and how many rows?")
    lines = result_lines(parts)
    for op in ("mean", "sum", "min", "max"):
        assert f"{op} of price: {fmt(getattr(sales['price'], op)())}" in lines
    assert f"row count: {len(sales)}" in lines
    assert not any("units" in line for line in lines[1:])
    answer = parts[-1].text
    assert f"mean of price: **{fmt(sales['price'].mean())}**" in answer
    assert f"row count: **{len(sales)}**" in answer
    code = parts[1].executable_code.code
    assert "df_file = 'input_file_0.csv'\ndf = pd.read_csv(df_file)" in code


def test_group_by_a_named_column(client, sales):
    parts = ask(client, sales, "average units grouped by region")
    lines = result_lines(parts)
    expected = sales.groupby("region")["units"].mean()
    for region, value in expected.items():
        assert f"mean of units for region={region}: {fmt(value)}" in lines
    assert "price" not in "\n".join(lines)


def test_total_per_column_and_count_by_column(client, sales):
    lines = result_lines(ask(client, sales, "total price per region and count by region"))
    for region, value in sales.groupby("region")["price"].sum().items():
        assert f"sum of price for region={region}: {fmt(value)}" in lines
    for region, count in sales.groupby("region").size().items():
        assert f"count for region={region}: {count}" in lines


def test_describe_prints_pandas_describe(client, sales):
    parts = ask(client, sales, "Give me a summary of the data")
    output = "\n".join(result_lines(parts))
    assert sales[["price", "units"]].describe().to_string() in output
    assert "units" in parts[-1].text and "```" in parts[-1].text


def test_plot_returns_a_real_matplotlib_png(client, sales):
    parts = ask(client, sales, "Plot price and units")
    images = [p.inline_data for p in parts if p.inline_data]
    assert len(images) == 1 and images[0].mime_type == "image/png"
    picture = Image.open(io.BytesIO(images[0].data))
    assert picture.format == "PNG" and picture.size == (600, 400)
    assert len(picture.getcolors(maxcolors=1 << 20)) > 10  # a drawn chart, not a blank page
    assert "The chart is shown above." in parts[-1].text


def test_plot_by_group_draws_a_bar_chart(client, sales):
    parts = ask(client, sales, "chart the mean price by region")
    code = parts[1].executable_code.code
    assert (
        ".plot.bar(ax=ax)" in code and "df_group = 'region'\ndf_by = df.groupby(df_group)" in code
    )
    assert [p.inline_data.mime_type for p in parts if p.inline_data] == ["image/png"]


def test_two_attached_csvs_are_both_analysed(client, sales):
    other = pd.DataFrame({"weight": [1.5, 2.5, 4.0]})
    parts = [
        types.Part.from_bytes(data=sales.to_csv(index=False).encode(), mime_type="text/csv"),
        types.Part.from_bytes(data=other.to_csv(index=False).encode(), mime_type="text/csv"),
        "What is the max of price and the max of weight?",
    ]
    response = client.models.generate_content(model=MODEL, contents=parts, config=CODE_EXECUTION)
    lines = result_lines(response.candidates[0].content.parts)
    assert f"max of price: {fmt(sales['price'].max())}" in lines
    assert f"max of weight: {fmt(other['weight'].max())}" in lines


def test_prompt_it_cannot_handle_gets_a_plain_no_answer(client, sales):
    parts = ask(client, sales, "Write a limerick about these regions")
    assert len(parts) == 1
    assert "offline emulator has no answer for this prompt" in parts[0].text


def test_analysis_code_that_fails_reports_no_figures(client):
    broken = pd.DataFrame({"a": ["1", "2"]}).to_csv(index=False).encode() + b'"unclosed\n'
    csv = types.Part.from_bytes(data=broken, mime_type="text/csv")
    response = client.models.generate_content(
        model=MODEL, contents=[csv, "mean of a"], config=CODE_EXECUTION
    )
    parts = response.candidates[0].content.parts
    assert parts[2].code_execution_result.outcome == types.Outcome.OUTCOME_FAILED
    assert "Traceback" in parts[2].code_execution_result.output
    assert "no figures to report" in parts[-1].text
    assert not any(ch.isdigit() for ch in parts[-1].text.replace("input_file_0", ""))


def test_attachment_descriptions_do_not_count_as_named_columns():
    csv = Attachment(b"region,price,units\nn,1,2\n", "text/csv")
    description = "input_file_0.csv holds DataFrame `sales` with columns region, price, units."
    found = plan([description, "what is the total?"], [csv])
    assert found is not None and found.intents == ["sum"]
    assert found.tables[0].value_columns == [] and found.tables[0].group_by is None


def test_a_chat_that_resent_its_csv_analyses_it_once(client, sales):
    csv = types.Part.from_bytes(data=sales.to_csv(index=False).encode(), mime_type="text/csv")
    chat = client.chats.create(model=MODEL, config=CODE_EXECUTION)
    chat.send_message([csv, "How many rows?"])
    second = chat.send_message([csv, "And the maximum of units?"])
    lines = result_lines(second.candidates[0].content.parts)
    assert lines == [f"input_file_0.csv: {len(sales)} rows, 3 columns", "max of units: 14"]
