"""``%%gemini`` in a real ipykernel, driven by nbclient as a notebook run would be."""

from __future__ import annotations

import base64
import json

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.helpers.magic import png_size
from tests.helpers.wire import input_texts, interaction_requests


def notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return nb


def run(nb: nbformat.NotebookNode, tmp_path) -> nbformat.NotebookNode:
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    return nb


def bundles(cell) -> list[dict]:
    return [
        o.get("data", {})
        for o in cell.outputs
        if o.output_type in ("display_data", "execute_result")
    ]


def test_a_prompt_cell_shows_code_output_figure_and_usage(emulator, tmp_path):
    nb = run(
        notebook(
            "%load_ext gemini_magic\nimport pandas as pd\n"
            "sales = pd.DataFrame({'region': list('NSNS'), 'revenue': [10.0, 20.0, 30.0, 45.5]})",
            "%%gemini\nPlot {sales} and give the mean revenue.",
            "%%gemini\nAnd the total revenue of {sales}?",
        ),
        tmp_path,
    )
    first = bundles(nb.cells[1])
    markdown = "\n".join(b.get("text/markdown", "") for b in first)
    assert "```python" in markdown and "read_csv" in markdown
    assert "26.375" in markdown  # the real mean, computed in the emulator's sandbox
    (png,) = [b["image/png"] for b in first if "image/png" in b]
    width, height = png_size(base64.b64decode(png))
    assert width > 100 and height > 100
    footer = first[-1]["text/plain"]
    assert "offline emulator" in footer and "tokens" in footer
    assert all("text/plain" in b for b in first)
    assert "105.5" in "\n".join(b.get("text/markdown", "") for b in bundles(nb.cells[2]))
    # The second request named the first interaction, which holds its code and result.
    _first_request, second_request = interaction_requests(emulator)
    (first_stored, _) = sorted(emulator.interactions.list(), key=lambda i: i.created)
    assert second_request.body["previous_interaction_id"] == first_stored.interaction_id
    assert "document" in json.dumps(second_request.body)  # {sales} attached again
    steps = [step["type"] for step in first_stored.resource()["steps"]]
    assert "code_execution_call" in steps and "code_execution_result" in steps


def test_an_error_fails_the_notebook_run(emulator, tmp_path):
    nb = notebook("%load_ext gemini_magic", "%%gemini\nSummarise {missing_frame}.")
    with pytest.raises(CellExecutionError) as caught:
        run(nb, tmp_path)
    assert "ReferenceNotFound" in str(caught.value)
    assert "missing_frame" in str(caught.value)
    assert emulator.log == []


def test_rerunning_a_cell_in_the_kernel_replaces_its_turn(emulator):
    """JupyterLab sends the cell id: running the same cell twice keeps one exchange."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:

        def execute(code: str, cell_id: str) -> str:
            # As JupyterLab does: the cell id travels in the request's metadata.
            content = {"code": code, "silent": False, "store_history": True}
            msg = kc.session.msg("execute_request", content, metadata={"cellId": cell_id})
            kc.shell_channel.send(msg)
            while True:
                reply = kc.get_shell_msg(timeout=60)
                if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                    return reply["content"]["status"]

        assert execute("%load_ext gemini_magic", "setup") == "ok"
        assert execute("%%gemini\nSay hello.", "cell-1") == "ok"
        assert execute("%%gemini\nSay hello again.", "cell-1") == "ok"
        assert execute("%%gemini\nSay goodbye.", "cell-2") == "ok"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    _first, rerun, last = interaction_requests(emulator)
    assert "previous_interaction_id" not in rerun.body  # no earlier turn before that cell
    stored = sorted(emulator.interactions.list(), key=lambda i: i.created)
    assert last.body["previous_interaction_id"] == stored[1].interaction_id  # the re-run's
    assert input_texts(last.body) == ["Say goodbye."]


def test_settings_in_a_kernel_show_the_widget_panel_and_the_table(emulator, tmp_path):
    nb = run(notebook("%load_ext gemini_magic", "%gemini"), tmp_path)
    outputs = bundles(nb.cells[1])
    assert any("application/vnd.jupyter.widget-view+json" in b for b in outputs)
    table = outputs[-1]
    assert "gemini-magic settings" in table["text/plain"]
    assert "<table>" in table["text/html"]


def _until_idle(kc, msg_id: str) -> list[dict]:
    """The iopub messages of one request, up to the kernel going idle after it."""
    messages = []
    while True:
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages


def _printed(kc, code: str) -> str:
    msg_id = kc.execute(code)
    return "".join(
        m["content"]["text"] for m in _until_idle(kc, msg_id) if m["msg_type"] == "stream"
    )


def test_the_panel_in_a_kernel_edits_the_settings_and_follows_config(emulator):
    """The front end's edit of a widget reaches the trait %config reads, and a %config
    change is sent to the front end's widget: the panel is linked both ways."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        _printed(kc, "%load_ext gemini_magic")
        opened = [
            m["content"]
            for m in _until_idle(kc, kc.execute("%gemini"))
            if m["msg_type"] == "comm_open"
        ]
        comms = {c["data"]["state"].get("description"): c for c in opened}
        model, temperature = comms["Model"], comms["Temperature"]
        labels = model["data"]["state"]["_options_labels"]

        def edit(comm: dict, state: dict) -> None:
            # What a front end sends when the user moves a widget.
            content = {
                "comm_id": comm["comm_id"],
                "data": {"method": "update", "state": state, "buffer_paths": []},
            }
            kc.shell_channel.send(kc.session.msg("comm_msg", content))

        edit(model, {"index": labels.index("gemini-3.5-flash")})
        edit(temperature, {"value": 0.4})
        shown = _printed(
            kc,
            "print(get_ipython().run_line_magic('config', 'GeminiMagics.model'), "
            "get_ipython().run_line_magic('config', 'GeminiMagics.temperature'))",
        )
        assert shown.split() == ["gemini-3.5-flash", "0.4"]

        sent = [
            m["content"]
            for m in _until_idle(kc, kc.execute("%config GeminiMagics.temperature = 1.5"))
            if m["msg_type"] == "comm_msg"
        ]
        updates = [
            c["data"]["state"]
            for c in sent
            if c["comm_id"] == temperature["comm_id"] and c["data"].get("method") == "update"
        ]
        assert {"value": 1.5} in updates
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
