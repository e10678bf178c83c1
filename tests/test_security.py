"""Security and privacy of %%gemini: hostile answers, local execution, what is sent, the key.

* Untrusted model output (text, code, execution output with ``<script>``, ``onerror``
  and ``javascript:`` links) is rendered by a real Markdown renderer (markdown-it, HTML
  allowed, as JupyterLab does) without any element or attribute that could run.
* Generated code runs in the (emulated) service's sandbox, never in the kernel.
* The "Sent:" line names exactly what the emulator received; nothing else leaves.
* A recognisable API key appears in no output, file, exception, log line or repr,
  through every fault and through the example notebooks.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import traceback
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from gemini_magic.text import human_size
from tests.helpers.magic import run_cell
from tests.helpers.wire import media, prompt_requests, prompt_texts

# Built at run time so the source holds nothing a secret scanner takes for a real key.
SECRET = "AIza" + "SyD-gemini-magic-SECRET-0123456789abc"

HOSTILE_TEXT = (
    "Here you go <script>alert('text')</script> and <img src=x onerror=alert('img')>.\n\n"
    "[click me](javascript:alert('link')) [ref][r] ![pic](javascript:alert('image'))\n\n"
    "[r]: javascript:alert('reference')\n\n"
    '<a href="javascript:alert(\'a\')">raw link</a> <iframe src="javascript:alert(1)">'
    "</iframe> <svg onload=alert('svg')></svg> `<script>alert('span')</script>`\n\n"
    "<details open ontoggle=alert('details')><summary>x</summary></details>"
)
HOSTILE_CODE = (
    "print(\"<script>alert('output')</script>\")\n"
    "print(\"<img src=x onerror=alert('out-img')>\")\n"
    "print('```')\n"
    "print(\"<script>alert('after-fence')</script>\")\n"
    "# <script>alert('code')</script>"
)
HOSTILE_REPLIES = [
    {
        "match": "be hostile",
        "parts": [{"text": HOSTILE_TEXT}, {"code": HOSTILE_CODE}, {"text": "Done: {output}"}],
    }
]


class _ActiveContent(HTMLParser):
    """Collects what in rendered HTML could run script."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "svg", "math", "details", "style"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            target = re.sub(r"[\s\x00-\x1f]", "", (value or "")).lower()
            if name in ("href", "src", "action", "formaction", "xlink:href") and (
                target.startswith(("javascript:", "vbscript:", "data:text"))
            ):
                self.found.append(f"<{tag} {name}={value}>")


def active_content(markdown: str) -> list[str]:
    """Script-capable elements/attributes in ``markdown`` rendered with HTML allowed."""
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark", {"html": True}).render(markdown)
    parser = _ActiveContent()
    parser.feed(rendered)
    return parser.found


# --- untrusted output ---------------------------------------------------------------------


def test_hostile_text_code_and_output_cannot_run_in_the_notebook(any_api, emulator_with_replies):
    emulator = emulator_with_replies(HOSTILE_REPLIES)
    run = run_cell(any_api, "%%gemini -o answer\nPlease be hostile.")
    assert run.success, run.error
    assert "alert('output')" in any_api.user_ns["answer"].results[0].output  # it did run remotely
    markdown = [o["text/markdown"] for o in run.outputs if "text/markdown" in o]
    assert any("Here you go" in m for m in markdown)
    assert any("alert('output')" in m for m in markdown), "the execution output is not shown"
    for output in run.outputs:
        assert set(output) <= {"text/markdown", "text/plain", "image/png", "text/html"}
        for mime in ("text/markdown", "text/html"):
            if mime in output:
                assert active_content(output[mime]) == [], output[mime]
    # The answer object, as displayed later (one Markdown document), is just as inert.
    data = any_api.user_ns["answer"]._repr_mimebundle_()
    data = data[0] if isinstance(data, tuple) else data
    for mime in ("text/markdown", "text/html"):
        if mime in data:
            assert active_content(data[mime]) == [], data[mime]
    history = run_cell(any_api, "%gemini history")
    for output in history.outputs:
        for mime in ("text/markdown", "text/html"):
            if mime in output:
                assert active_content(output[mime]) == [], output[mime]
    assert prompt_requests(emulator)


def test_generated_code_never_runs_in_the_kernel(any_api, emulator_with_replies, tmp_path):
    marker = tmp_path / "pwned.txt"
    code = (
        "import os\n"
        f"open({str(marker)!r}.replace('pwned', 'sandbox-pwned'), 'w').close()\n"
        "open('pwned.txt', 'w').write('ran')\n"
        "PWNED = True\n"
        "print('ran in', os.getcwd())"
    )
    emulator_with_replies([{"match": "make a file", "parts": [{"code": code}]}])
    any_api.rl_next_input = None
    for cell in ("%%gemini\nPlease make a file.", "%%gemini -x\nPlease make a file."):
        run = run_cell(any_api, cell)
        assert run.success, run.error
        assert "ran in" in run.all_text()  # the code ran: in the emulator's sandbox
        assert not marker.exists(), "generated code ran in the kernel's working folder"
        assert "PWNED" not in any_api.user_ns
    # -x only offers the code as the next cell; the user decides to run it.
    assert "PWNED = True" in any_api.rl_next_input
    assert not marker.exists()
    (tmp_path / "sandbox-pwned.txt").unlink()  # written by the sandbox, by absolute path


# --- privacy ---------------------------------------------------------------------------------


SENT = re.compile(
    r"Sent: (?:(?P<name>\w+)\.csv \((?P<rows>[\d,]+) rows? × (?P<cols>\d+) columns?, "
    r"(?P<size>[\d.]+ k?B)\) and )?the prompt text \((?P<chars>[\d,]+) characters?\)"
)


def sent_line(run) -> re.Match[str]:
    (line,) = [line for line in run.all_text().splitlines() if line.startswith("Sent:")]
    match = SENT.match(line)
    assert match, line
    return match


def test_sent_line_matches_the_request_exactly_and_nothing_else_leaves(any_api, emulator):
    sales = pd.DataFrame({"region": ["North", "South", "East"], "revenue": [1.5, 2.25, 3.0]})
    any_api.user_ns["sales"] = sales
    any_api.user_ns["private"] = pd.DataFrame({"ssn": ["078-05-1120"], "name": ["Zebulon Q"]})
    any_api.user_ns["token"] = "tok-PRIVATE-not-named"
    run = run_cell(any_api, "%%gemini\nWhat is the total revenue in {sales}?")
    assert run.success, run.error
    sent = sent_line(run)
    (request,) = prompt_requests(emulator)
    assert [r.path for r in emulator.log] == [request.path], "something else was sent"
    ((mime, csv),) = media(request)
    assert mime == "text/csv"
    texts = prompt_texts(request)
    back = pd.read_csv(io.BytesIO(csv))
    assert sent["name"] == "sales"
    assert (int(sent["rows"].replace(",", "")), int(sent["cols"])) == back.shape
    assert sent["size"] == human_size(len(csv))
    assert int(sent["chars"].replace(",", "")) == len(texts[-1])
    assert texts[-1] == "What is the total revenue in sales.csv?"
    # Besides the prompt and the file: one short description of the file, nothing else.
    assert len(texts) == 2 and "sales.csv" in texts[0] and "3 rows" in texts[0]
    raw = b"".join(r.raw for r in emulator.log)
    for private in (b"078-05-1120", b"Zebulon", b"tok-PRIVATE", str(Path.home()).encode()):
        assert private not in raw


def test_sent_line_matches_an_uploaded_file_exactly(any_api, emulator):
    frame = pd.DataFrame({"x": range(3_000), "label": [f"item {i}" for i in range(3_000)]})
    any_api.user_ns["big"] = frame
    run_cell(any_api, "%config GeminiMagics.upload_threshold = 1000")
    run = run_cell(any_api, "%%gemini\nWhat is the sum of x in {big}?")
    assert run.success, run.error
    sent = sent_line(run)
    uploaded = [
        r for r in emulator.log if r.path.startswith("/upload/") and r.query.get("upload_id")
    ]
    (data,) = [r.raw for r in uploaded]
    assert sent["size"] == human_size(len(data))
    assert (int(sent["rows"].replace(",", "")), int(sent["cols"])) == pd.read_csv(
        io.BytesIO(data)
    ).shape
    (request,) = prompt_requests(emulator)
    assert media(request) == []  # the file went by its upload, not inline


# --- the API key -----------------------------------------------------------------------------


def assert_no_secret(*texts: object) -> None:
    for text in texts:
        assert SECRET not in str(text), f"the key leaked in: {str(text)[:300]}"
        assert SECRET[8:] not in str(text)


def scan_files(folder: Path) -> int:
    scanned = 0
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert SECRET.encode() not in data, f"the key is in {path}"
            scanned += 1
    return scanned


FAULTS = [
    ("status", {"code": 400, "message": f"API key not valid: {SECRET}"}),
    ("status", {"code": 403}),
    ("status", {"code": 404, "message": f"No model for key={SECRET}"}),
    ("status", {"code": 429, "retry_after": 0, "count": 5}),
    ("status", {"code": 500, "count": 5}),
    ("status", {"code": 503, "count": 5}),
    ("stream_error", {"message": f"Internal error for {SECRET}"}),
    ("malformed_event", {}),
    ("drop", {}),
    ("drop", {"after": 1, "count": 5}),
    ("stall", {"seconds": 30}),
    ("huge", {"size": 300_000}),
    ("expire_file", {}),
]


def test_the_key_leaks_nowhere_through_every_fault(
    any_api, emulator, monkeypatch, tmp_path, caplog
):
    monkeypatch.setenv("GEMINI_API_KEY", emulator.add_key(SECRET))
    caplog.set_level(logging.DEBUG)
    history = tmp_path / "nb.gemini-history.json"
    for setting in (
        f"GeminiMagics.history_file = {str(history)!r}",
        "GeminiMagics.retry_initial_delay = 0.01",
        "GeminiMagics.max_retries = 1",
        # Long enough for a loaded machine to start the sandbox (pandas, Matplotlib) between
        # two events; a stall still times out quickly.
        "GeminiMagics.timeout = 4.0",
        "GeminiMagics.upload_threshold = 1000",
    ):
        run_cell(any_api, f"%config {setting}")
    any_api.magics_manager.registry["GeminiMagics"].session.resume()  # as at %load_ext
    any_api.user_ns["big"] = pd.DataFrame({"x": range(2_000)})
    seen: list[object] = []
    for kind, params in FAULTS:
        params = dict(params)
        count = params.pop("count", 1)
        if kind == "expire_file":
            assert run_cell(any_api, "%%gemini\nSum x in {big}.").success
            emulator.inject(kind, **params)
        else:
            emulator.inject(kind, count=count, **params)
        run = run_cell(any_api, "%%gemini\nSum x in {big}, please.")
        error = run.error
        seen += [run.all_text(), run.outputs, run.metadata, repr(error), str(error)]
        if error is not None:
            seen.append("".join(traceback.format_exception(error)))
            seen.append(getattr(error, "_render_traceback_", lambda: [])())
        emulator.reset()  # ends a stall, clears what is left of the fault
        emulator.add_key(SECRET)  # and the keys it was told to accept
    assert run_cell(any_api, "%%gemini -o answer\nSay hello.").success
    magics = any_api.magics_manager.registry["GeminiMagics"]
    seen += [
        repr(any_api.user_ns["answer"]),
        any_api.user_ns["answer"]._repr_mimebundle_(),
        repr(magics),
        repr(magics.session),
        repr(magics.session.client()),
        run_cell(any_api, "%gemini").all_text(),
        run_cell(any_api, "%gemini history").all_text(),
        caplog.text,
        [r.getMessage() for r in caplog.records],
    ]
    assert run_cell(any_api, f"%gemini save {tmp_path / 'saved.json'}").success
    assert run_cell(any_api, f"%gemini export {tmp_path / 'saved.md'}").success
    assert_no_secret(*seen)
    assert history.exists()
    assert scan_files(tmp_path) >= 3
    # The key did go where it must: the x-goog-api-key header (the emulator logs "***").
    assert all(r.headers.get("x-goog-api-key") == "***" for r in prompt_requests(emulator))


NOTEBOOK_CELLS = [
    "import logging, pandas as pd\n"
    "logging.basicConfig(filename='kernel.log', level=logging.DEBUG, force=True)\n"
    "%load_ext gemini_magic",
    "%config GeminiMagics.retry_initial_delay = 0.01\n"
    "sales = pd.DataFrame({'region': ['N', 'S'], 'revenue': [1.5, 2.5]})",
    "%%gemini -o answer\nPlot {sales} and give the mean revenue.",
    "import urllib.request, json, os\n"
    "def fault(**body):\n"
    "    url = os.environ['GOOGLE_GEMINI_BASE_URL'] + '/_emulator/faults'\n"
    "    headers = {'x-goog-api-key': os.environ['GEMINI_API_KEY']}\n"
    "    request = urllib.request.Request(url, json.dumps(body).encode(), headers)\n"
    "    urllib.request.urlopen(request).read()\n"
    "fault(kind='status', code=403, message='API key not valid: ' + os.environ['GEMINI_API_KEY'])",
    "%%gemini\nThis one fails.",
    "fault(kind='stream_error', message='boom ' + os.environ['GEMINI_API_KEY'], after=1)",
    "%%gemini\nThis one breaks mid-stream, please write a long enough answer.",
    "answer",
    "%gemini",
    "%gemini history",
    "%gemini save conv.json\n%gemini export conv.md",
]


def own_notebook(path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in NOTEBOOK_CELLS]
    for index in (4, 6):
        nb.cells[index].metadata["tags"] = ["raises-exception"]
    nbformat.write(nb, path)


@pytest.mark.slow
def test_the_key_leaks_nowhere_in_the_notebooks(tmp_path):
    """Run every example notebook and one of our own with the key set; scan it all."""
    import nbformat
    from nbclient import NotebookClient

    from gemini_magic.emulator import Emulator

    root = Path(__file__).resolve().parents[1]
    work = tmp_path / "notebooks"
    shutil.copytree(root / "notebooks", work, ignore=shutil.ignore_patterns("__pycache__"))
    own_notebook(work / "zz_security.ipynb")
    replies = work / "replies.yaml"
    with Emulator(replies=replies if replies.exists() else [], key=SECRET) as emulator:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI", "MPLBACKEND")
        }
        env.update(
            GEMINI_API_KEY=SECRET,
            GOOGLE_GEMINI_BASE_URL=emulator.url,
            PYTHONPATH=os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")])),
        )
        notebooks = sorted(work.glob("*.ipynb"))
        for path in notebooks:
            nb = nbformat.read(path, as_version=4)
            env["JPY_SESSION_NAME"] = str(path)
            client = NotebookClient(
                nb, timeout=120, allow_errors=False, resources={"metadata": {"path": str(work)}}
            )
            client.execute(env=env)
            nbformat.write(nb, path)
            text = path.read_text()
            assert SECRET not in text, f"the key is in the outputs of {path.name}"
        assert prompt_requests(emulator), "the notebooks sent no prompt"
    executed = json.loads((work / "zz_security.ipynb").read_text())
    shown = json.dumps(executed["cells"][4]["outputs"])
    assert "403" in shown and "***" in shown  # the service's echo of the key was redacted
    assert (work / "kernel.log").stat().st_size > 0
    assert (work / "zz_security.gemini-history.json").exists()
    assert scan_files(work) >= len(notebooks) + 4
