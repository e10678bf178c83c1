"""Real execution of a reply's code: outcomes, figures, deadline, clean-up."""

from __future__ import annotations

import io
import time
from pathlib import Path

from google import genai
from google.genai import types
from PIL import Image

from gemini_magic.emulator import Emulator
from gemini_magic.emulator.answers.sandbox import OUTCOME_OK, Sandbox
from gemini_magic.emulator.wire.codec import Attachment

MODEL = "gemini-2.5-flash"
CODE_EXECUTION = types.GenerateContentConfig(
    tools=[types.Tool(code_execution=types.ToolCodeExecution())]
)


def run(emulator: Emulator, client: genai.Client, code: str) -> list[types.Part]:
    """Answer a prompt with a scripted reply that executes ``code``."""
    emulator.set_replies([{"match": "run", "parts": [{"code": code}]}])
    response = client.models.generate_content(model=MODEL, contents="run", config=CODE_EXECUTION)
    return response.candidates[0].content.parts


def gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (a zombie waiting for its reaper counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def test_failing_code_reports_its_traceback(emulator, client):
    parts = run(emulator, client, "print('before')\nx = 1 / 0\n")
    result = parts[1].code_execution_result
    assert result.outcome == types.Outcome.OUTCOME_FAILED
    assert result.output.startswith("before\nTraceback (most recent call last):\n")
    assert 'File "<string>", line 2, in <module>' in result.output
    assert result.output.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "exec(compile" not in result.output


def test_every_figure_comes_back_as_png(emulator, client):
    code = (
        "import matplotlib.pyplot as plt\n"
        "plt.figure(figsize=(2, 1)); plt.plot([1, 3, 2])\n"
        "plt.figure(figsize=(3, 2)); plt.bar(['a', 'b'], [4, 5])\n"
        "plt.show()\n"
    )
    parts = run(emulator, client, code)
    assert parts[1].code_execution_result.outcome == types.Outcome.OUTCOME_OK
    sizes = [Image.open(io.BytesIO(p.inline_data.data)).size for p in parts[2:]]
    assert sizes == [(200, 100), (300, 200)]


def test_deadline_kills_the_code_and_its_children(emulator, client):
    emulator.exec_timeout = 1
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],\n"
        "                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parts = run(emulator, client, code)
    result = parts[1].code_execution_result
    assert result.outcome == types.Outcome.OUTCOME_DEADLINE_EXCEEDED
    child = int(result.output.split()[0])
    deadline = time.monotonic() + 10
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(child)


def test_working_folder_does_not_outlive_the_request(emulator, client):
    parts = run(emulator, client, "import os\nprint(os.getcwd())\nopen('left.txt', 'w').close()")
    folder = Path(parts[1].code_execution_result.output.strip())
    assert folder.name == "work"
    assert not folder.exists() and not folder.parent.exists()


def test_api_keys_do_not_reach_the_sandbox(emulator, client):
    parts = run(emulator, client, "import os\nprint(os.environ.get('GEMINI_API_KEY'))")
    assert parts[1].code_execution_result.output == "None\n"


def test_attachments_are_named_like_the_service_names_them():
    attachments = [
        Attachment(b"a\n1\n", "text/csv", "first.csv"),
        Attachment(b"hello", "text/plain", "../notes.txt"),
    ]
    with Sandbox(attachments, timeout=30) as sandbox:
        execution = sandbox.run("import os\nprint(sorted(os.listdir()))")
        folder = sandbox.workdir
    assert execution.outcome == OUTCOME_OK
    assert execution.output.strip() == (
        "['first.csv', 'input_file_0.csv', 'input_file_1.txt', 'notes.txt']"
    )
    assert not folder.exists()


def test_each_code_part_runs_in_a_fresh_process_in_the_same_folder(emulator, client):
    emulator.set_replies(
        [
            {
                "match": "twice",
                "parts": [
                    {"code": "import os\nx = 1\nopen('state.txt', 'w').write(str(os.getpid()))"},
                    {"code": "import os\nprint(open('state.txt').read() != str(os.getpid()))"},
                    {"code": "print('x' in globals())"},
                ],
            }
        ]
    )
    response = client.models.generate_content(model=MODEL, contents="twice", config=CODE_EXECUTION)
    outputs = [
        p.code_execution_result.output
        for p in response.candidates[0].content.parts
        if p.code_execution_result
    ]
    assert outputs == ["", "True\n", "False\n"]
