"""Helpers shared by the reliability tests: what reached the emulator, what the user saw."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 60

#: Marks the line StreamView appends when an answer was cut short.
INCOMPLETE = "Answer incomplete"
INTERRUPTED = "Interrupted"

#: Scripted replies: a long text that streams in many events, and two short ones.
STORY = (
    "Once upon a time a notebook asked a question about its data, and the answer came "
    "back in many small pieces over the network, one after another, each a few words "
    "long, until the whole story had arrived and the cell could finish. The end."
)
REPLIES = [
    {"match": "tell a story", "parts": [{"text": STORY}]},
    {"match": "say hello", "parts": [{"text": "Hello!"}]},
    {"match": "say goodbye", "parts": [{"text": "Goodbye!"}]},
]


class Kernel:
    """A started kernel and a blocking client, with a helper that runs one cell."""

    def __init__(self, notebook: Path) -> None:
        env = {**os.environ, "JPY_SESSION_NAME": str(notebook)}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(env=env, cwd=str(notebook.parent))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=TIMEOUT)

    @property
    def pid(self) -> int:
        return self.manager.provisioner.process.pid

    def submit(self, code: str) -> str:
        return self.client.execute(code)

    def collect(
        self, msg_id: str, until: Any = None, timeout: float = TIMEOUT
    ) -> tuple[list[dict[str, Any]], bool]:
        """IOPub messages of ``msg_id`` until the kernel is idle (True) or ``until(msg)``."""
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.client.get_iopub_msg(timeout=1)
            except Exception:  # queue.Empty: keep waiting
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            messages.append(msg)
            if until is not None and until(msg):
                return messages, False
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return messages, True
        raise TimeoutError(f"no answer within {timeout} s")

    def run(self, code: str) -> tuple[dict[str, Any], str]:
        """Run a cell; return its execute_reply content and all the text it showed."""
        msg_id = self.submit(code)
        messages, _ = self.collect(msg_id)
        reply = self.client.get_shell_msg(timeout=TIMEOUT)
        assert reply["parent_header"]["msg_id"] == msg_id
        return reply["content"], shown_text(messages)

    def stop(self) -> None:
        self.client.stop_channels()
        if self.manager.has_kernel:
            self.manager.shutdown_kernel(now=True)


def shown_text(messages: list[dict[str, Any]]) -> str:
    """Every text a front end would show for these messages (final display contents)."""
    by_id: dict[str, str] = {}
    chunks: list[str] = []
    for msg in messages:
        content = msg["content"]
        if msg["msg_type"] == "stream":
            chunks.append(content["text"])
        elif msg["msg_type"] in ("display_data", "update_display_data", "execute_result"):
            data = content["data"]
            text = str(data.get("text/markdown") or data.get("text/plain") or "")
            display_id = content.get("transient", {}).get("display_id")
            if display_id is not None and display_id in by_id:
                chunks[chunks.index(by_id[display_id])] = text
            else:
                chunks.append(text)
            if display_id is not None:
                by_id[display_id] = text
        elif msg["msg_type"] == "error":
            chunks.append(f"{content['ename']}: {content['evalue']}")
            chunks.extend(content.get("traceback", []))
    return "\n".join(chunks)
