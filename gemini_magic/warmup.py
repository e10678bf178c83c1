"""Warming up after ``%load_ext``, so the first answer comes as fast as the tenth.

The first prompt of a session used to pay for importing the SDK (about 0.8 s), pandas
and pyarrow, our own turn modules, and building the client: over a second that every
later prompt does not pay.  ``%load_ext`` must stay light, so that work moves to a
background thread started by the load; a prompt typed a few seconds later finds it done.

The thread only imports modules and builds the client, both of which the first prompt
would do anyway, under the same locks (Python's import lock, the session's client
lock), so a prompt that comes early simply waits for, or repeats, what is missing.  A
failure here is not raised: nothing of the user's is running in this thread.  It is
kept (:attr:`Warmup.error`) and shown by ``%gemini``; one that is ours (no API key,
say) the first prompt raises again, clearly, in its own cell, and any other (the SDK's
private modules this uses have moved, say) is also a warning at the next prompt, once,
so a warm-up that stopped working does not go unnoticed.
"""

from __future__ import annotations

import importlib
import threading
import time

from gemini_magic.errors import GeminiMagicError
from gemini_magic.session import GeminiSession

#: Modules a prompt needs, in the order it needs them.
_MODULES = (
    "google.genai",
    "google.genai.types",
    "gemini_magic.turn",
    "gemini_magic.inputs.prompt",
    "gemini_magic.display.stream",
    "gemini_magic.answer.response",
    "gemini_magic.api.content",
    "gemini_magic.api.interactions",
)
#: Data libraries a prompt about a frame uses, when they are installed.
_OPTIONAL = ("pandas", "pyarrow", "pyarrow.csv")

#: Seconds between ``%load_ext`` and the start of the warm-up.
START_DELAY_S = 0.5

#: One event of each kind a code-execution answer streams on the Interactions API.  The
#: SDK builds the parser of an event type the first time it meets one (about half a
#: second of pydantic schema building); parsing these here moves that off the prompt.
_SAMPLE_EVENTS = (
    '{"event_type":"interaction.created","interaction":{"id":"v1_w","status":"in_progress"}}',
    '{"event_type":"interaction.status_update","interaction_id":"v1_w","status":"in_progress"}',
    '{"event_type":"step.start","index":0,"step":{"type":"thought"}}',
    '{"event_type":"step.delta","index":0,"delta":{"type":"thought_summary",'
    '"content":{"type":"text","text":"t"}}}',
    '{"event_type":"step.delta","index":0,"delta":{"type":"thought_signature","signature":"c2ln"}}',
    '{"event_type":"step.start","index":1,"step":{"type":"code_execution_call","id":"c",'
    '"arguments":{"code":"1","language":"python"}}}',
    '{"event_type":"step.delta","index":1,"delta":{"type":"code_execution_call",'
    '"arguments":{"code":"1","language":"python"}}}',
    '{"event_type":"step.start","index":2,"step":{"type":"code_execution_result",'
    '"call_id":"c","result":""}}',
    '{"event_type":"step.delta","index":2,"delta":{"type":"code_execution_result","result":"1"}}',
    '{"event_type":"step.start","index":3,"step":{"type":"model_output"}}',
    '{"event_type":"step.delta","index":3,"delta":{"type":"text","text":"x"}}',
    '{"event_type":"step.delta","index":3,"delta":{"type":"image","data":"","mime_type":"image/png"}}',
    '{"event_type":"step.stop","index":3}',
    '{"event_type":"interaction.completed","interaction":{"id":"v1_w","status":"completed",'
    '"usage":{"total_tokens":1}}}',
)


def _build_sample_parts() -> None:
    """Build one of each part a turn is kept as: the SDK's types build their validators
    on first use (a quarter of a second)."""
    from google.genai import types

    code = types.ExecutableCode(code="1", language="PYTHON", id="c")
    result = types.CodeExecutionResult(outcome="OUTCOME_OK", output="1", id="c")
    parts = [
        types.Part(text="x"),
        types.Part(thought=True, text="t", thought_signature=b"s"),
        types.Part(inline_data=types.Blob(data=b"x", mime_type="text/csv", display_name="x")),
        types.Part(file_data=types.FileData(file_uri="https://x/files/x", mime_type="text/csv")),
        types.Part(executable_code=code),
        types.Part(code_execution_result=result),
    ]
    types.Content(role="user", parts=parts).model_dump(mode="json", exclude_none=True)
    types.GenerateContentConfig(
        tools=[types.Tool(code_execution=types.ToolCodeExecution())],
        thinking_config=types.ThinkingConfig(include_thoughts=True),
    )
    types.GenerateContentResponseUsageMetadata(prompt_token_count=1, total_token_count=1)


def _serialize_sample_request() -> None:
    """Validate and serialise one create request as the SDK does before sending it: its
    request models, too, build their (de)serialisers on first use (a fifth of a second)."""
    from google.genai._gaos import models, utils

    content = [
        {"type": "text", "text": "x"},
        {"type": "document", "data": "eA==", "mime_type": "text/csv"},
        {"type": "document", "uri": "https://x/files/x", "mime_type": "text/csv"},
        {"type": "image", "data": "eA==", "mime_type": "image/png"},
    ]
    body = {
        "model": "gemini-3.8-flash",
        "input": [{"type": "user_input", "content": content}],
        "tools": [{"type": "code_execution"}, {"type": "google_search"}],
        "store": True,
        "stream": True,
        "previous_interaction_id": "v1_w",
        "system_instruction": "x",
        "generation_config": {"thinking_level": "low", "thinking_summaries": "auto"},
    }
    request = utils.unmarshal({"body": body}, models.CreateInteractionRequest)
    utils.serialize_request_body(
        request.body, False, False, "json", models.CreateInteractionRequestBody
    )


def _parse_sample_events() -> None:
    """Parse :data:`_SAMPLE_EVENTS` as the SDK parses a stream (its own parser)."""
    from google.genai._gaos.types import interactions
    from google.genai._gaos.utils.serializers import unmarshal_json

    for raw in _SAMPLE_EVENTS:
        unmarshal_json(f'{{"data":{raw}}}', interactions.InteractionSSEStreamEvent)


class Warmup:
    """The background warm-up of one session."""

    def __init__(self, session: GeminiSession, api: str) -> None:
        self.error: BaseException | None = None
        self._warned = False
        self._session = session
        self._api = api
        self.thread = threading.Thread(target=self._run, name="gemini-magic-warmup", daemon=True)

    def start(self) -> Warmup:
        self.thread.start()
        return self

    def _run(self) -> None:
        # A moment's pause first: a Gemini kernel loads the extension while it starts,
        # and its first replies to the front end should not share the GIL with imports.
        time.sleep(START_DELAY_S)
        try:
            for name in _MODULES:
                importlib.import_module(name)
            for name in _OPTIONAL:
                try:
                    importlib.import_module(name)
                except ImportError:
                    continue
            _build_sample_parts()
            client = self._session.client()
            if self._api == "interactions":
                client.interactions  # noqa: B018 - builds the Interactions client once
                _serialize_sample_request()
                _parse_sample_events()
        except Exception as exc:  # the first prompt repeats this step (and raises ours)
            self.error = exc
            self._session.warmup_failure = failure_line(exc)

    def warning(self) -> str | None:
        """What to warn the user of, once: a failure the first prompt does not raise
        itself (None: the warm-up runs, ran well, or failed on an error of ours)."""
        if self._warned or self.error is None or isinstance(self.error, GeminiMagicError):
            return None
        self._warned = True
        return (
            f"gemini-magic's background warm-up failed ({failure_line(self.error)}). "
            "Prompts still work; the first one is slower. Please report this, with your "
            "google-genai version."
        )


def failure_line(error: BaseException) -> str:
    """An exception in one line: its type and the first line of its message."""
    message = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
