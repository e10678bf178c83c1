"""Real code execution, like the service's sandbox.

Each piece of code runs in a separate Python process whose working folder is a fresh
temporary folder holding the request's attachments, named as the service names them
(``input_file_0.csv``, ...) and also by their display names.  Output is captured,
every Matplotlib figure (Agg backend) comes back as PNG bytes, and the whole process
group is killed at the deadline: nothing of it outlives the request.

Only the subprocess imports pandas or Matplotlib; the server process never does.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from gemini_magic.emulator.wire.codec import Attachment

OUTCOME_OK = "OUTCOME_OK"
OUTCOME_FAILED = "OUTCOME_FAILED"
OUTCOME_DEADLINE_EXCEEDED = "OUTCOME_DEADLINE_EXCEEDED"

# Runs the code with the runner's own frame cut from tracebacks, then saves every open
# Matplotlib figure: the service returns figures whether or not the code calls show().
_RUNNER = r"""
import os, sys, traceback
code_path, figure_dir = sys.argv[1], sys.argv[2]
with open(code_path, encoding="utf-8") as f:
    source = f.read()
status = 0
try:
    exec(compile(source, "<string>", "exec"), {"__name__": "__main__"})
except SystemExit as exc:
    status = 0 if exc.code in (None, 0) else 1
except BaseException as exc:
    traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)
    status = 1
pyplot = sys.modules.get("matplotlib.pyplot")
if pyplot is not None:
    for i, number in enumerate(sorted(pyplot.get_fignums())):
        pyplot.figure(number).savefig(os.path.join(figure_dir, "figure_%03d.png" % i))
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)
"""

_EXTENSIONS = {
    "text/csv": ".csv",
    "text/plain": ".txt",
    "application/json": ".json",
    "text/javascript": ".js",
    "text/x-typescript": ".ts",
    "text/rtf": ".rtf",
}
_SECRETS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")


@dataclass
class Execution:
    """The outcome of running one piece of code."""

    outcome: str
    output: str
    figures: list[bytes] = field(default_factory=list)


def sandbox_name(index: int, attachment: Attachment) -> str:
    """``input_file_<n><ext>``: the name the service gives an attachment."""
    ext = _EXTENSIONS.get(attachment.mime_type) or mimetypes.guess_extension(attachment.mime_type)
    if not ext and attachment.display_name:
        ext = Path(attachment.display_name).suffix
    return f"input_file_{index}{ext or ''}"


def _safe_display_name(name: str | None) -> str | None:
    """A display name usable as a plain file name in the folder, or None."""
    if not name:
        return None
    base = re.sub(r"[^\w.\- ]", "_", Path(name).name).strip(" .")
    return base or None


class Sandbox:
    """One request's execution folder; each :meth:`run` is a fresh process in it.

    The folder is created on the first run and removed by :meth:`close`, so a reply
    without code costs nothing.
    """

    def __init__(self, attachments: list[Attachment], timeout: float = 30.0) -> None:
        self.attachments = attachments
        self.timeout = timeout
        self._root: Path | None = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def workdir(self) -> Path:
        """The code's working folder, holding the attachments."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="gemini-emulator-"))
            work = self._root / "work"
            work.mkdir()
            for i, attachment in enumerate(self.attachments):
                (work / sandbox_name(i, attachment)).write_bytes(attachment.data)
            for attachment in self.attachments:
                display = _safe_display_name(attachment.display_name)
                if display and not (work / display).exists():
                    (work / display).write_bytes(attachment.data)
        return self._root / "work"

    def run(self, code: str, *, shell: bool = False) -> Execution:
        """Run ``code`` (Python, or with ``shell`` a bash command) to completion or to
        the deadline and report what happened.

        A shell command's figures are the PNG files it wrote into the folder.
        """
        work = self.workdir
        figures = Path(tempfile.mkdtemp(prefix="figures-", dir=work.parent))
        code_file = figures.with_suffix(".py")
        code_file.write_text(code, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k not in _SECRETS}
        env["MPLBACKEND"] = "Agg"
        env["PYTHONIOENCODING"] = "utf-8"
        before = set(work.glob("*.png"))
        command = (
            ["bash", "--noprofile", "--norc", "-c", code]
            if shell
            else [sys.executable, "-I", "-c", _RUNNER, str(code_file), str(figures)]
        )
        process = subprocess.Popen(
            command,
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            out, err = process.communicate(timeout=self.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill_group(process)
            out, err = process.communicate()
            timed_out = True
        finally:
            _kill_group(process)
        stdout = out.decode("utf-8", errors="replace")
        if timed_out:
            note = f"Execution exceeded the {self.timeout:g} s limit and was stopped.\n"
            return Execution(OUTCOME_DEADLINE_EXCEEDED, stdout + note)
        made = sorted(set(work.glob("*.png")) - before) if shell else []
        pngs = [p.read_bytes() for p in [*sorted(figures.glob("figure_*.png")), *made]]
        if process.returncode != 0:
            return Execution(OUTCOME_FAILED, stdout + err.decode("utf-8", errors="replace"))
        return Execution(OUTCOME_OK, stdout, pngs)

    def close(self) -> None:
        """Remove the folder and everything the code wrote."""
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the code's whole process group (it may have started children)."""
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    elif process.poll() is None:
        process.kill()
