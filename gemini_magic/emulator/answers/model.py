"""The emulator's deterministic "model": what a reply is made of.

A scripted reply wins when its pattern matches the prompt; otherwise the built-in
analyst tries the attached files; otherwise the reply says there is no offline answer.
A request with the Google Search tool gets the script's searches, or (unscripted) a
sentence saying that search is not available offline: no source is ever invented.
Parts are produced one by one (code is executed between them), so a stream shows the
text before the code while the code is still running, as the service's does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from gemini_magic.emulator.answers import analyst
from gemini_magic.emulator.answers.faults import Fault
from gemini_magic.emulator.answers.replies import ScriptedReply, find_reply
from gemini_magic.emulator.answers.sandbox import Execution, Sandbox
from gemini_magic.emulator.wire.codec import GenerateRequest, encode_base64

Part = dict[str, Any]

NO_SEARCH = (
    "Google Search is not available in the offline emulator, so this answer uses no "
    "web sources.\n\n"
)


@contextlib.contextmanager
def reply_for(
    request: GenerateRequest, replies: list[ScriptedReply], exec_timeout: float, fault: Fault | None
) -> Iterator[Iterator[Part]]:
    """The reply's parts, produced lazily in a sandbox that lives as long as the block.

    The sandbox is removed as soon as the last part is produced (before the answer's
    last byte is sent) or, at the latest, when the block ends.
    """
    with Sandbox(request.attachments, exec_timeout) as sandbox:
        if fault is not None and fault.kind == "huge":
            yield iter([{"text": huge_text(fault.params["size"])}])
        else:
            yield _closing(reply_parts(request, replies, sandbox), sandbox)


def _closing(parts: Iterator[Part], sandbox: Sandbox) -> Iterator[Part]:
    """Yield the parts, then remove the sandbox before the answer's last byte is sent."""
    yield from parts
    sandbox.close()


def reply_parts(
    request: GenerateRequest, replies: list[ScriptedReply], sandbox: Sandbox
) -> Iterator[Part]:
    """Yield the reply's parts in order, executing code as it comes.

    A reply starts with a thought part (``thought: True``) unless its script places
    its own thoughts; generateContent shows thoughts only when they are asked for.
    """
    scripted = find_reply(replies, request.prompt)
    if scripted is not None:
        if not any("thought" in part for part in scripted.parts):
            yield thought("Following the scripted reply that matches this prompt.")
        yield from _scripted(scripted, sandbox, request.search)
        return
    plan = analyst.plan(request.prompt_parts, request.attachments)
    if plan is None:
        yield thought("No scripted reply matches, and nothing attached is data to analyse.")
        yield {"text": NO_SEARCH + analyst.NO_ANSWER if request.search else analyst.NO_ANSWER}
        return
    yield thought(analyst.planning(plan))
    yield {"text": (NO_SEARCH if request.search else "") + analyst.opening(plan)}
    code = analyst.code_for(plan)
    execution = yield from _execute(code, sandbox)
    yield {"text": analyst.answer_text(plan, execution)}


def thought(summary: str) -> Part:
    """A thought part: the summary the model shows of its reasoning."""
    return {"text": summary, "thought": True}


def _scripted(reply: ScriptedReply, sandbox: Sandbox, search: bool) -> Iterator[Part]:
    """The script's parts; its searches only when the request enabled the search tool."""
    output = ""
    sources: list[dict[str, str]] = []
    for part in reply.parts:
        if "search" in part:
            if search:
                found = part["search"]
                yield {"searchCall": {"queries": found["queries"]}}
                yield {"searchResult": {k: found[k] for k in ("suggestions", "sources")}}
                sources = found["sources"]
        elif "code" in part or "bash" in part:
            if "code" in part:
                execution = yield from _execute(part["code"], sandbox)
            else:
                execution = yield from _execute_shell(part["bash"], sandbox)
            # Only blank lines and the line end go: a table's first-line indent stays.
            output = execution.output.strip("\n").rstrip()
        elif "thought" in part:
            yield thought(part["thought"])
        else:
            text: Part = {"text": part["text"].replace("{output}", output)}
            if sources:  # the first text after a search cites what it found
                text["citations"], sources = sources, []
            yield text


def _execute(code: str, sandbox: Sandbox) -> Iterator[Part]:
    """Yield the code, run it, yield its result and figures; return the execution."""
    yield {"executableCode": {"language": "PYTHON", "code": code}}
    execution: Execution = sandbox.run(code)
    yield {"codeExecutionResult": {"outcome": execution.outcome, "output": execution.output}}
    for png in execution.figures:
        yield {"inlineData": {"mimeType": "image/png", "data": encode_base64(png)}}
    return execution


def _execute_shell(command: str, sandbox: Sandbox) -> Iterator[Part]:
    """Yield a shell step and its result (a list of content blocks: the output as text,
    each PNG the command wrote as an image); return the execution."""
    yield {"executableCode": {"language": "BASH", "code": command}, "shell": True}
    execution: Execution = sandbox.run(command, shell=True)
    content: list[dict[str, str]] = [{"type": "text", "text": execution.output}]
    for png in execution.figures:
        content.append({"type": "image", "mime_type": "image/png", "data": encode_base64(png)})
    result = {"outcome": execution.outcome, "output": execution.output}
    yield {"codeExecutionResult": result, "shell": True, "content": content}
    return execution


def huge_text(size: int) -> str:
    """A deterministic text of ``size`` characters, for the huge-reply fault."""
    line = "This is a deliberately huge reply from the offline emulator. "
    return (line * (size // len(line) + 1))[:size]
