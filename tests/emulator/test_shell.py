"""Shell steps and text documents on the emulator, driven by the real SDK over HTTP.

The Interactions API's sandbox may run a ``bash`` step, whose result can be a list of
content blocks (text and images); a text file sent as a ``document`` is a file the
sandbox's code can open.
"""

from __future__ import annotations

import base64
import io

import pytest
from google import genai
from google.genai import interactions as it
from google.genai import types
from PIL import Image

from gemini_magic.emulator import Emulator
from tests.helpers.interaction import CODE, MODEL, make_client

#: A 1x1 PNG the shell step writes into the sandbox folder.
DOT = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
        "0000000c4944415408d763f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
    )
).decode()
SHELL = [
    {
        "match": "list the files",
        "parts": [
            {"text": "I will list the sandbox's files."},
            {"bash": f"ls && echo listed && echo {DOT} | base64 -d > dot.png"},
            {"text": "Files: {output}."},
        ],
    },
    {
        "match": "read the notes",
        "parts": [{"code": "print(open('input_file_0.md').read().upper())"}],
    },
]


@pytest.fixture
def client(emulator: Emulator) -> genai.Client:
    emulator.set_replies(SHELL)
    return make_client(emulator)


def _notes() -> dict:
    data = base64.b64encode(b"# Notes\nalpha beta\n").decode()
    return {"type": "document", "mime_type": "text/markdown", "data": data}


def test_a_bash_step_runs_in_the_sandbox_and_its_result_is_a_content_list(client):
    interaction = client.interactions.create(
        model=MODEL, input=[_notes(), {"type": "text", "text": "list the files"}], tools=CODE
    )
    call = next(s for s in interaction.steps if s.type == "code_execution_call")
    result = next(s for s in interaction.steps if s.type == "code_execution_result")
    assert call.arguments.language == "bash" and call.arguments.code.startswith("ls")
    text, image = result.result
    assert isinstance(text, it.TextContent) and "input_file_0.md" in text.text
    assert isinstance(image, it.ImageContent) and image.mime_type == "image/png"
    assert Image.open(io.BytesIO(base64.b64decode(image.data))).size == (1, 1)
    assert result.call_id == call.id and result.is_error is False


def test_a_streamed_content_list_result_comes_with_its_step_start(client):
    events = list(
        client.interactions.create(model=MODEL, input="list the files", tools=CODE, stream=True)
    )
    [start] = [
        e for e in events if e.event_type == "step.start" and e.step.type == "code_execution_result"
    ]
    assert [c.type for c in start.step.result] == ["text", "image"]
    [delta] = [
        e
        for e in events
        if e.event_type == "step.delta" and e.delta.type == "code_execution_result"
    ]
    assert delta.delta.result == "" and delta.delta.signature


def test_generate_content_has_no_shell_steps(client):
    answer = client.models.generate_content(
        model=MODEL,
        contents="list the files",
        config=types.GenerateContentConfig(tools=[types.Tool(code_execution={})]),
    )
    parts = answer.candidates[0].content.parts
    assert not any(p.executable_code or p.code_execution_result for p in parts)
    assert "I will list the sandbox's files." in "".join(p.text or "" for p in parts)


def test_a_markdown_document_is_a_file_the_sandbox_opens(client):
    interaction = client.interactions.create(
        model=MODEL, input=[_notes(), {"type": "text", "text": "read the notes"}], tools=CODE
    )
    result = next(s for s in interaction.steps if s.type == "code_execution_result")
    assert result.result == "# NOTES\nALPHA BETA\n\n"
