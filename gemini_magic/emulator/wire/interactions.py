"""The Interactions API's JSON: reading a ``create`` body, writing errors and steps.

The reply machinery speaks generateContent's parts (``text``, ``executableCode``,
``codeExecutionResult``, ``inlineData``, ...).  So an Interactions request is read here
into *steps* (what it says, checked with the Interactions API's own words) and those
steps are turned into generateContent ``contents``; the same reader, model and sandbox
then serve both APIs.  Errors are ``{"error": {"code": "<word>", "message"}}`` with a
string code, as the Interactions API writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gemini_magic.emulator.wire.codec import (
    STATUS_WORDS,
    ErrorDialect,
    RequestError,
    decode_base64,
    file_id_from_uri,
    parse_json,
)

THINKING_LEVELS = ("minimal", "low", "medium", "high", "xhigh")
THINKING_SUMMARIES = ("auto", "none")
CONTENT_TYPES = ("text", "image", "document", "audio", "video")
STEP_TYPES = (
    "user_input",
    "thought",
    "code_execution_call",
    "code_execution_result",
    "model_output",
    "google_search_call",
    "google_search_result",
)
TOOLS = ("code_execution", "google_search")


def error_code(status: int) -> str:
    """The Interactions API's string code for an HTTP status (400 -> ``invalid_request``)."""
    if status == 400:
        return "invalid_request"
    return STATUS_WORDS.get(status, "unknown").lower()


def _error(exc: RequestError) -> dict[str, Any]:
    return {"error": {"code": error_code(exc.code), "message": exc.message}}


INTERACTION_ERRORS = ErrorDialect(
    body=_error, event=lambda exc: ("error", {"event_type": "error", **_error(exc)})
)
"""``{"error": {"code": "not_found", "message"}}``; mid-stream an ``error`` event."""


@dataclass
class CreateRequest:
    """What a ``POST interactions`` body asks for, checked."""

    model: str
    steps: list[dict[str, Any]]
    """The new input as steps (a string or content blocks become one ``user_input``)."""
    previous_interaction_id: str | None = None
    continuation_token: str | None = None
    """Set on a continuation hop: the rest of an answer cut at the decode limit."""
    store: bool = True
    stream: bool = False
    system_instruction: str | None = None
    thinking_summaries: bool = False
    tools: list[str] = field(default_factory=list)


def parse_create(raw: bytes) -> CreateRequest:
    """Read and check a ``create`` body; 400 ``invalid_request`` naming what is wrong."""
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise RequestError(400, "The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError(400, "'model' is required (an agent is not emulated).")
    token = body.get("continuation_token")
    if token is not None and not (isinstance(token, str) and token):
        raise RequestError(400, "'continuation_token' must be a non-empty string.")
    if "input" not in body and token is None:
        raise RequestError(400, "'input' is required.")
    config = body.get("generation_config") or {}
    if not isinstance(config, dict):
        raise RequestError(400, "'generation_config' must be an object.")
    _check_choice(config, "thinking_level", THINKING_LEVELS)
    _check_choice(config, "thinking_summaries", THINKING_SUMMARIES)
    system = body.get("system_instruction")
    if system is not None and not isinstance(system, str):
        raise RequestError(400, "'system_instruction' must be a string.")
    previous = body.get("previous_interaction_id")
    if previous is not None and not isinstance(previous, str):
        raise RequestError(400, "'previous_interaction_id' must be a string.")
    store = body.get("store", True)
    if not isinstance(store, bool):
        raise RequestError(400, "'store' must be true or false.")
    return CreateRequest(
        model=model,
        steps=input_steps(body["input"]) if "input" in body else [],
        previous_interaction_id=previous or None,
        continuation_token=token,
        store=store,
        stream=body.get("stream") is True,
        system_instruction=system,
        thinking_summaries=config.get("thinking_summaries") == "auto",
        tools=_tools(body.get("tools")),
    )


def _check_choice(config: dict[str, Any], key: str, allowed: tuple[str, ...]) -> None:
    value = config.get(key)
    if value is not None and value not in allowed:
        raise RequestError(
            400,
            f"Invalid value {value!r} for 'generation_config.{key}': "
            f"allowed values are {', '.join(allowed)}.",
        )


def _tools(tools: Any) -> list[str]:
    if tools is None:
        return []
    if not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools):
        raise RequestError(400, "'tools' must be a list of objects such as {'type': ...}.")
    kinds = [str(t.get("type")) for t in tools]
    unknown = [k for k in kinds if k not in TOOLS]
    if unknown:
        raise RequestError(
            400,
            f"Tool type {unknown[0]!r} is not emulated offline; "
            f"the emulated tools are {', '.join(TOOLS)}.",
        )
    return kinds


def input_steps(value: Any) -> list[dict[str, Any]]:
    """``input`` as steps: a string, one content or step, or a list of either."""
    if isinstance(value, str):
        return [{"type": "user_input", "content": [{"type": "text", "text": value}]}]
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list) or not items:
        raise RequestError(400, "'input' must be a string, a content, a step or a non-empty list.")
    if all(isinstance(i, dict) and i.get("type") in CONTENT_TYPES for i in items):
        items = [{"type": "user_input", "content": items}]
    return [_check_step(step, f"input[{i}]") for i, step in enumerate(items)]


def _typed(value: Any, allowed: tuple[str, ...], what: str, where: str) -> dict[str, Any]:
    """``value`` if it is an object of an allowed type, else a 400 naming the types."""
    if isinstance(value, dict) and value.get("type") in allowed:
        return value
    kind = value.get("type") if isinstance(value, dict) else type(value).__name__
    raise RequestError(
        400,
        f"Invalid {what} at '{where}' (type {kind!r}): "
        f"a {what}'s type is one of {', '.join(allowed)}.",
    )


def _check_step(step: Any, where: str) -> dict[str, Any]:
    step = _typed(step, STEP_TYPES, "step", where)
    if step["type"] in ("user_input", "model_output"):
        content = step.get("content") or []
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list):
            raise RequestError(400, f"Invalid value at '{where}.content': expected a list.")
        step = {
            **step,
            "content": [_check_content(c, f"{where}.content[{j}]") for j, c in enumerate(content)],
        }
    return step


def _check_content(content: Any, where: str) -> dict[str, Any]:
    content = _typed(content, CONTENT_TYPES, "content", where)
    if content["type"] == "text":
        if not isinstance(content.get("text"), str):
            raise RequestError(400, f"Invalid value at '{where}.text': expected a string.")
        return content
    if content.get("data") is not None:
        decode_base64(content["data"], f"{where}.data")
    elif content.get("uri") is not None:
        file_id_from_uri(content["uri"], where)
    else:
        raise RequestError(400, f"Invalid content at '{where}': give 'data' or 'uri'.")
    return content


# -- steps as generateContent contents -------------------------------------------------


def as_contents(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Steps as generateContent ``contents`` (user turns and model turns), for the model."""
    contents: list[dict[str, Any]] = []
    for step in steps:
        role = "user" if step["type"] == "user_input" else "model"
        parts = _parts(step)
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    return contents


def _parts(step: dict[str, Any]) -> list[dict[str, Any]]:
    kind = step["type"]
    if kind in ("user_input", "model_output"):
        return [_content_part(c) for c in step["content"]]
    if kind == "thought":
        summary = " ".join(str(s.get("text", "")) for s in step.get("summary") or [])
        return [{"text": summary, "thought": True, "thoughtSignature": step.get("signature", "")}]
    if kind == "code_execution_call":
        arguments = step.get("arguments") or {}
        language = str(arguments.get("language") or "python").upper()
        return [{"executableCode": {"language": language, "code": str(arguments.get("code"))}}]
    if kind == "code_execution_result":
        output = result_text(step.get("result"))
        outcome = "OUTCOME_FAILED" if step.get("is_error") else "OUTCOME_OK"
        return [{"codeExecutionResult": {"outcome": outcome, "output": output}}]
    return []  # search steps: their queries and sources were for the model's answer


def result_text(result: Any) -> str:
    """A result's output: a string, or the text of a list of content blocks."""
    if isinstance(result, str):
        return result
    if isinstance(result, list):
        return "".join(str(c.get("text", "")) for c in result if isinstance(c, dict))
    return str(result or "")


def _content_part(content: dict[str, Any]) -> dict[str, Any]:
    if content["type"] == "text":
        return {"text": content["text"]}
    mime = str(content.get("mime_type") or "application/octet-stream")
    if content.get("data") is not None:
        return {"inlineData": {"mimeType": mime, "data": content["data"]}}
    return {"fileData": {"mimeType": mime, "fileUri": content["uri"]}}
