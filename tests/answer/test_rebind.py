"""The rewrite of the model's sandbox code onto live objects (``gemini_magic.answer.rebind``).

The sandbox's view is rebuilt from the real attachment: the model's code is run on the
CSV bytes ``prepare_prompt`` would send, in a scratch folder, and the rebound code on the
live object; the two must agree wherever the rewrite promises they do.
"""

from __future__ import annotations

import ast
import io
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PIL import Image

from gemini_magic.answer.rebind import Binding, check_expression, rebind
from gemini_magic.errors import UsageError
from gemini_magic.inputs.frames import to_csv_bytes
from gemini_magic.inputs.prompt import prepare_prompt

SALES = Binding(("sales.csv", "input_file_0.csv"), "sales")


@pytest.fixture
def sales() -> pd.DataFrame:
    return pd.DataFrame({"region": ["north", "south", "east", "west"], "amount": [10, 20, 30, 40]})


def run(code: str, **namespace: Any) -> dict[str, Any]:
    exec(compile(code, "<rebound>", "exec"), namespace)
    return namespace


def sandbox_run(code: str, folder: Path, files: dict[str, bytes]) -> dict[str, Any]:
    """Run ``code`` as the sandbox did: in a folder holding the attached files."""
    for name, data in files.items():
        (folder / name).write_bytes(data)
    here = os.getcwd()
    os.chdir(folder)
    try:
        return run(code)
    finally:
        os.chdir(here)


def attachment_of(frame: Any, name: str = "sales", **kwargs: Any) -> Any:
    return prepare_prompt(f"Look at {{{name}}}", {name: frame}, **kwargs).attachments[0]


# --- the done-criterion of issue 13 --------------------------------------------------


def test_a_sum_over_a_sampled_attachment_is_the_sum_of_every_live_row(
    sales: pd.DataFrame, tmp_path: Path
) -> None:
    attachment = attachment_of(sales, sample=2)
    code = "import pandas as pd\ndf = pd.read_csv('sales.csv')\ntotal = df['amount'].sum()\n"
    in_sandbox = sandbox_run(code, tmp_path, {attachment.filename: attachment.data})
    assert in_sandbox["total"] < 100  # the sandbox saw 2 of the 4 rows

    rebound = rebind(code, [Binding.for_attachment(attachment, 0)])
    assert run(rebound.code, sales=sales)["total"] == 100
    assert rebound.bound == (("sales.csv", "sales"),)


def test_the_header_says_what_is_bound_to_what_and_what_is_left() -> None:
    code = (
        "import pandas as pd\nfrom PIL import Image\n"
        "a = pd.read_csv('sales.csv')\nb = pd.read_csv('input_file_0.csv')\n"
        "c = Image.open('photo.png')\nd = pd.read_csv('out.csv')\n"
    )
    rebound = rebind(code, [SALES, Binding(("photo.png",), "photo", "image")])
    first, second = rebound.code.splitlines()[:2]
    assert first == (
        "# gemini-magic: sales.csv, input_file_0.csv -> sales (the whole DataFrame); "
        "photo.png -> photo (the image)"
    )
    assert second == "# gemini-magic: left as is: out.csv (not attached)"
    assert rebound.bound == (
        ("sales.csv", "sales"),
        ("input_file_0.csv", "sales"),
        ("photo.png", "photo"),
    )
    assert rebound.unbound == ("out.csv",)


# --- how the file is named ------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "import pandas as pd\ndf = pd.read_csv('sales.csv')",
        'import pandas\ndf = pandas.read_csv("input_file_0.csv")',
        "from pandas import read_csv\ndf = read_csv('sales.csv')",
        "from pandas import read_csv as rc\ndf = rc('sales.csv')",
        "import pandas as p\ndf = p.read_table('sales.csv')",
        "import pandas as pd\ndf = pd.read_csv(filepath_or_buffer='sales.csv')",
        "import pandas as pd\npath = 'sales.csv'\ndf = pd.read_csv(path)",
        "import pandas as pd\nDATA: str = './sales.csv'\ndf = pd.read_csv(DATA)",
        "import os\nimport pandas as pd\ndf = pd.read_csv(os.path.join('.', 'sales.csv'))",
        "import pandas as pd\nfrom pathlib import Path\ndf = pd.read_csv(Path('sales.csv'))",
        "import pandas as pd\nimport os\nd = '.'\np = os.path.join(d, 'sales.csv')\n"
        "df = pd.read_csv(p)",
    ],
)
def test_every_spelling_of_a_read_gets_a_copy_of_the_whole_frame(
    code: str, sales: pd.DataFrame
) -> None:
    namespace = run(rebind(code, [SALES]).code, sales=sales)
    pd.testing.assert_frame_equal(namespace["df"], sales)
    assert namespace["df"] is not sales  # a copy: the code may change it freely


def test_several_reads_in_one_program_all_bind(sales: pd.DataFrame) -> None:
    code = (
        "import pandas as pd\n"
        "first = pd.read_csv('sales.csv')\n"
        "second = pd.read_csv('input_file_0.csv', usecols=['amount'])\n"
        "with open('sales.csv') as f:\n"
        "    header = f.readline().strip()\n"
        "lines = open('sales.csv').read().splitlines()\n"
        "raw = open('sales.csv', 'rb').read()\n"
    )
    namespace = run(rebind(code, [SALES]).code, sales=sales)
    assert namespace["raw"] == to_csv_bytes(sales)  # the attachment's bytes, as sent
    assert len(namespace["first"]) == 4
    assert list(namespace["second"].columns) == ["amount"]
    assert namespace["header"] == '"region","amount"'  # as the attachment has it
    assert len(namespace["lines"]) == 5


def test_reads_inside_functions_and_comprehensions_bind_even_when_a_local_shadows(
    sales: pd.DataFrame,
) -> None:
    code = (
        "import pandas as pd\n"
        "def load():\n"
        "    sales = pd.read_csv('sales.csv')\n"
        "    return sales\n"
        "frames = [pd.read_csv('sales.csv') for _ in range(2)]\n"
        "total = load()['amount'].sum() + sum(len(f) for f in frames)\n"
    )
    rebound = rebind(code, [SALES])
    assert run(rebound.code, sales=sales)["total"] == 108


def test_a_path_variable_assigned_twice_is_not_guessed_at(sales: pd.DataFrame) -> None:
    code = "import pandas as pd\npath = 'sales.csv'\npath = 'other.csv'\ndf = pd.read_csv(path)"
    rebound = rebind(code, [SALES])
    assert "pd.read_csv(path)" in rebound.code
    assert rebound.bound == ()
    assert rebound.unbound == ("sales.csv",)  # still named: the header says it was not bound


def test_a_file_the_model_wrote_itself_is_left_and_reported(sales: pd.DataFrame) -> None:
    code = (
        "import pandas as pd\ndf = pd.read_csv('sales.csv')\n"
        "df.to_csv('clean.csv')\nagain = pd.read_csv('clean.csv')\n"
        "other = pd.read_csv('/tmp/sales.csv')\n"
    )
    rebound = rebind(code, [SALES])
    assert "pd.read_csv('clean.csv')" in rebound.code
    assert "pd.read_csv('/tmp/sales.csv')" in rebound.code
    assert rebound.unbound == ("clean.csv", "/tmp/sales.csv")
    assert "/tmp/sales.csv (outside the working folder)" in rebound.code.splitlines()[1]


def test_code_without_a_bound_read_is_returned_as_written_comments_and_all() -> None:
    code = "import pandas as pd\n# the model's comment\ndf = pd.read_csv('other.csv')  # keep\n"
    rebound = rebind(code, [SALES])
    assert rebound.code.splitlines()[0] == ("# gemini-magic: no read of an attached file to bind")
    assert rebound.code.endswith(code)
    assert rebound.unbound == ("other.csv",)


def test_statements_that_read_no_bound_file_are_not_changed() -> None:
    code = (
        "import pandas as pd\nx = {'a': 1}\ndf = pd.read_csv('sales.csv')\n"
        "y = df.groupby('region')['amount'].agg(['sum', 'mean'])\nprint(f'{x!r}', y)\n"
    )
    new = ast.parse(rebind(code, [SALES]).code).body
    old = ast.parse(code).body
    dumps = [ast.dump(s) for s in new]
    for statement in (old[0], old[1], old[3], old[4]):
        assert ast.dump(statement) in dumps


# --- what a read with options gives -------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        "usecols=['amount']",
        "usecols=['amount'], dtype={'amount': 'float64'}",
        "index_col=0",
        "sep=','",
        "nrows=3",
        "header=None, skiprows=1",
    ],
)
@pytest.mark.parametrize("indexed", [False, True])
def test_a_read_with_options_gives_what_the_sandbox_got_from_the_whole_file(
    options: str, indexed: bool, sales: pd.DataFrame, tmp_path: Path
) -> None:
    frame = sales.set_index("region") if indexed else sales
    attachment = attachment_of(frame)
    binding = Binding.for_attachment(attachment, 0)
    assert binding.index is indexed
    code = f"import pandas as pd\ndf = pd.read_csv('sales.csv', {options})\n"
    expected = sandbox_run(code, tmp_path, {attachment.filename: attachment.data})["df"]
    got = run(rebind(code, [binding]).code, sales=frame)["df"]
    pd.testing.assert_frame_equal(got, expected)


def test_an_indexed_frame_read_whole_has_its_index_as_columns_as_in_the_sandbox(
    sales: pd.DataFrame, tmp_path: Path
) -> None:
    frame = sales.set_index("region")
    attachment = attachment_of(frame)
    code = "import pandas as pd\ndf = pd.read_csv('sales.csv')\n"
    expected = sandbox_run(code, tmp_path, {attachment.filename: attachment.data})["df"]
    got = run(rebind(code, [Binding.for_attachment(attachment, 0)]).code, sales=frame)["df"]
    pd.testing.assert_frame_equal(got, expected)


def test_a_series_reads_as_the_one_column_table_it_was_sent_as(tmp_path: Path) -> None:
    series = pd.Series([1.5, 2.5, 3.0], name="price")
    attachment = attachment_of(series, "prices")
    binding = Binding.for_attachment(attachment, 0)
    assert binding.kind == "series"
    for code in (
        "import pandas as pd\ndf = pd.read_csv('prices.csv')\n",
        "import pandas as pd\ndf = pd.read_csv('prices.csv', usecols=['price'])\n",
    ):
        expected = sandbox_run(code, tmp_path, {attachment.filename: attachment.data})["df"]
        got = run(rebind(code, [binding]).code, prices=series)["df"]
        pd.testing.assert_frame_equal(got, expected)


def test_a_read_in_another_format_with_options_is_left_and_says_why() -> None:
    code = "import pandas as pd\ndf = pd.read_excel('sales.csv', sheet_name=1)\n"
    rebound = rebind(code, [SALES])
    assert "pd.read_excel('sales.csv', sheet_name=1)" in rebound.code
    assert "another format" in rebound.code.splitlines()[1]


def test_a_plain_read_in_another_pandas_format_still_gets_the_frame(sales: pd.DataFrame) -> None:
    for reader in ("read_excel", "read_parquet", "read_json"):
        code = f"import pandas as pd\ndf = pd.{reader}('sales.csv')\n"
        pd.testing.assert_frame_equal(run(rebind(code, [SALES]).code, sales=sales)["df"], sales)


# --- other readers and kinds ---------------------------------------------------------


def test_polars_readers_bind_to_a_polars_frame() -> None:
    pl = pytest.importorskip("polars")
    live = pl.DataFrame({"region": ["n", "s", "e"], "amount": [1, 2, 3]})
    binding = Binding(("sales.csv",), "sales", "polars")
    code = (
        "import polars as pl\n"
        "a = pl.read_csv('sales.csv')\n"
        "b = pl.scan_csv('sales.csv').filter(pl.col('amount') > 1).collect()\n"
        "c = pl.read_csv('sales.csv', columns=['amount'])\n"
    )
    namespace = run(rebind(code, [binding]).code, sales=live)
    assert namespace["a"].equals(live)
    assert namespace["b"]["amount"].to_list() == [2, 3]
    assert namespace["c"].columns == ["amount"]


def test_a_pandas_frame_read_with_polars_goes_through_its_csv(sales: pd.DataFrame) -> None:
    pytest.importorskip("polars")
    code = "import polars as pl\ndf = pl.read_csv('sales.csv')\ntotal = df['amount'].sum()\n"
    assert run(rebind(code, [SALES]).code, sales=sales)["total"] == 100


def test_image_open_gets_a_copy_of_the_live_image() -> None:
    photo = Image.new("RGB", (8, 6), "red")
    code = (
        "from PIL import Image\nimport PIL.Image\n"
        "a = Image.open('photo.png').convert('L')\n"
        "b = PIL.Image.open('photo.png')\n"
        "with open('photo.png', 'rb') as f:\n    raw = f.read()\n"
    )
    namespace = run(rebind(code, [Binding(("photo.png",), "photo", "image")]).code, photo=photo)
    assert namespace["a"].mode == "L" and namespace["a"].size == (8, 6)
    assert namespace["b"] is not photo and namespace["b"].tobytes() == photo.tobytes()
    assert Image.open(io.BytesIO(namespace["raw"])).size == (8, 6)
    assert photo.mode == "RGB"  # the live image is untouched


def test_a_figure_is_read_as_the_png_it_was_sent_as() -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1), dpi=50)
    fig.add_subplot().plot([1, 2])
    code = "from PIL import Image\nimg = Image.open('chart.png')\nsize = img.size\n"
    rebound = rebind(code, [Binding(("chart.png",), "fig", "figure")])
    assert run(rebound.code, fig=fig)["size"] == (100, 50)


def test_a_file_binding_reads_the_users_real_file(tmp_path: Path) -> None:
    notes = tmp_path / "mine.txt"
    notes.write_text("hello\nworld\n")
    binding = Binding(("notes.txt",), "notes_path", "file")
    code = (
        "from pathlib import Path\n"
        "with open('notes.txt', encoding='utf-8') as f:\n    first = f.readline()\n"
        "text = Path('notes.txt').read_text()\n"
    )
    namespace = run(rebind(code, [binding]).code, notes_path=notes)
    assert namespace["first"] == "hello\n"
    assert namespace["text"] == "hello\nworld\n"


def test_a_bound_file_opened_for_writing_is_never_redirected(tmp_path: Path) -> None:
    binding = Binding(("notes.txt",), "notes_path", "file")
    code = "with open('notes.txt', 'w') as f:\n    f.write('x')\n"
    rebound = rebind(code, [binding])
    assert "open('notes.txt', 'w')" in rebound.code
    assert rebound.bound == ()
    assert "notes.txt (it is opened for writing)" in rebound.code


def test_text_is_read_from_memory() -> None:
    binding = Binding(("notes.txt",), "notes", "text")
    code = (
        "import pathlib\n"
        "a = pathlib.Path('notes.txt').read_text()\n"
        "b = pathlib.Path('notes.txt').read_bytes()\n"
        "with pathlib.Path('notes.txt').open() as f:\n    c = f.read()\n"
    )
    namespace = run(rebind(code, [binding]).code, notes="héllo")
    assert (namespace["a"], namespace["b"], namespace["c"]) == ("héllo", "héllo".encode(), "héllo")


def test_the_io_module_name_is_not_taken_from_the_code(sales: pd.DataFrame) -> None:
    code = "import pandas as pd\nio = 'mine'\ndf = pd.read_csv('sales.csv', usecols=['amount'])\n"
    namespace = run(rebind(code, [SALES]).code, sales=sales)
    assert namespace["io"] == "mine" and len(namespace["df"]) == 4


def test_a_future_import_stays_first(sales: pd.DataFrame) -> None:
    code = '"""Doc."""\nfrom __future__ import annotations\nimport pandas as pd\n' + (
        "df = pd.read_csv('sales.csv', usecols=['amount'])\n"
    )
    assert len(run(rebind(code, [SALES]).code, sales=sales)["df"]) == 4


# --- another object, bad input -------------------------------------------------------


@pytest.mark.parametrize(
    "expression", ["sales_2025", "frames['jan']", "data.years[2025]", "sales_2025  # x\n"]
)
def test_the_same_code_runs_on_another_object(expression: str, sales: pd.DataFrame) -> None:
    this_year = sales.assign(amount=sales["amount"] * 2)
    data = type("Data", (), {"years": {2025: this_year}})()
    code = "import pandas as pd\ntotal = pd.read_csv('sales.csv')['amount'].sum()\n"
    rebound = rebind(code, [Binding(SALES.filenames, expression)])
    namespace = {"sales_2025": this_year, "frames": {"jan": this_year}, "data": data}
    assert run(rebound.code, **namespace)["total"] == 200
    assert rebound.bound == (("sales.csv", expression.split("#")[0].strip()),)
    assert check_expression(expression)[1] in ("sales_2025", "frames", "data")


@pytest.mark.parametrize(
    "expression",
    ["", "sales()", "a + b", "frames[key]", "x[1:2]", "import os", "'s'", "sales;x", " sales"],
)
def test_an_expression_that_is_not_a_reference_is_refused(expression: str) -> None:
    with pytest.raises(UsageError, match="not a variable reference"):
        rebind("x = 1", [Binding(("sales.csv",), expression)])
    with pytest.raises(UsageError):
        check_expression(expression)


def test_bad_bindings_are_refused() -> None:
    with pytest.raises(UsageError, match="Unknown binding kind 'table'"):
        rebind("x = 1", [Binding(("sales.csv",), "sales", "table")])
    with pytest.raises(UsageError, match="bound twice"):
        rebind("x = 1", [SALES, Binding(("sales.csv",), "other")])
    with pytest.raises(UsageError, match="not a file name"):
        rebind("x = 1", [Binding(("data/sales.csv",), "sales")])


def test_code_that_does_not_parse_is_refused_naming_the_line() -> None:
    code = "import pandas as pd\ndf = pd.read_csv('sales.csv'\nprint(df)\n"
    with pytest.raises(UsageError, match=r"does not parse: .* line 2") as caught:
        rebind(code, [SALES])
    assert "Nothing was run" in str(caught.value)


def test_files_the_code_would_write_here_are_listed_in_the_header() -> None:
    code = (
        "import pandas as pd\nimport matplotlib.pyplot as plt\nfrom pathlib import Path\n"
        "df = pd.read_csv('sales.csv')\ntext = df.to_csv()\n"
        "df.to_csv('clean.csv', index=False)\nplt.savefig('chart.png')\n"
        "with open('log.txt', 'a') as f:\n    f.write('x')\n"
        "Path('notes.md').write_text('done')\nwith open('sales.csv') as f:\n    pass\n"
    )
    rebound = rebind(code, [SALES])
    assert rebound.writes == ("clean.csv", "chart.png", "log.txt", "notes.md")
    assert rebound.code.splitlines()[1] == (
        "# gemini-magic: writes to files here: clean.csv, chart.png, log.txt, notes.md"
    )


def test_any_reader_of_a_text_binding_gets_the_text_in_memory() -> None:
    binding = Binding(("data.json",), "raw", "text")
    code = "import pandas as pd\ndf = pd.read_json('data.json', orient='records')\n"
    namespace = run(rebind(code, [binding]).code, raw='[{"a": 1}, {"a": 2}]')
    assert namespace["df"]["a"].tolist() == [1, 2]


def test_a_later_code_block_uses_the_usual_names_of_earlier_imports(sales: pd.DataFrame) -> None:
    code = "df = pd.read_csv('sales.csv', usecols=['amount'])\nimg = Image.open('photo.png')\n"
    photo = Image.new("L", (2, 2))
    bindings = [SALES, Binding(("photo.png",), "photo", "image")]
    namespace = run(rebind(code, bindings).code, sales=sales, photo=photo, pd=pd, Image=Image)
    assert len(namespace["df"]) == 4 and namespace["img"].size == (2, 2)


def test_a_name_the_code_binds_itself_is_not_taken_for_a_module() -> None:
    code = "def pd():\n    pass\nx = pd.read_csv('sales.csv')\n"
    assert rebind(code, [SALES]).bound == ()
