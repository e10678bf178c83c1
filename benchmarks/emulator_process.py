"""The emulator in its own process, as the service is: its work does not share our GIL."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from common import ROOT


class EmulatorProcess:
    """``python -m gemini_magic.emulator`` with scripted replies, for a ``with`` block.

    :attr:`key` is the only key it answers, read from the file the emulator writes in
    our private temporary folder.
    """

    def __init__(self, replies: list[dict], delay: float = 0.0) -> None:
        self._replies = replies
        self._delay = delay
        self._folder = tempfile.TemporaryDirectory(prefix="gm-bench-")
        self._process: subprocess.Popen[str] | None = None
        self.url = ""
        self.key = ""

    def __enter__(self) -> EmulatorProcess:
        path = Path(self._folder.name) / "replies.json"
        path.write_text(json.dumps(self._replies))
        key_file = Path(self._folder.name) / "key"
        command = [sys.executable, "-m", "gemini_magic.emulator", "--replies", str(path)]
        command += ["--delay", str(self._delay), "--key-file", str(key_file)]
        self._process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self._process.stdout is not None
        first = self._process.stdout.readline()
        if "serving on" not in first:
            self.__exit__(None, None, None)
            raise RuntimeError(f"the emulator did not start: {first!r}")
        self.url = first.rsplit(" ", 1)[-1].strip()
        self.key = key_file.read_text().strip()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        self._folder.cleanup()
