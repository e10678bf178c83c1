"""Terminal IPython in a pseudo-terminal: a streamed answer is printed once, in order.

A terminal does not render display updates: IPython's own display publisher prints
every update as a new copy of the text.  These tests run real terminal IPython (and
``ipython script.ipy``) as a child process against the emulator and read what the user
would see.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

FIRST = "Let me work out the factorial of ten for you, one careful step at a time."
SECOND = "The factorial of 10 is {output}, which is a large number for so small an input."
CODE = "import math\nprint(math.factorial(10))"
REPLY = {
    "match": "factorial",
    "parts": [{"text": FIRST}, {"code": CODE}, {"text": SECOND}],
}
PROMPT = "What is the factorial of 10?"


def _env(tmp_path: Path) -> dict[str, str]:
    """The test's environment (emulator URL and key) with IPython's state kept in tmp."""
    env = dict(os.environ)
    env.update(IPYTHONDIR=str(tmp_path / "ipython"), TERM="dumb", PYTHONUNBUFFERED="1")
    env.pop("MPLBACKEND", None)
    return env


def assert_printed_once_in_order(screen: str) -> None:
    screen = screen.replace("\r\n", "\n")
    second = SECOND.format(output="3628800")
    pieces = [
        FIRST,
        "Python:\n    import math\n    print(math.factorial(10))\n",
        "Output:\n    3628800\n",
        second,
        "offline emulator",
    ]
    for piece in pieces:
        assert screen.count(piece) == 1, (piece, screen)
    # Every streamed text starts once: no update printed a copy of the text so far.
    for start in (FIRST[:12], second[:12]):
        assert screen.count(start) == 1, (start, screen)
    positions = [screen.index(piece) for piece in pieces]
    assert positions == sorted(positions), screen


def test_terminal_ipython_prints_each_streamed_part_once(
    emulator_with_replies, tmp_path: Path
) -> None:
    emulator_with_replies([REPLY])
    child = pexpect.spawn(
        sys.executable,
        ["-m", "IPython", "--simple-prompt", "--no-banner", "--colors=NoColor"],
        cwd=str(tmp_path),
        env=_env(tmp_path),
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 200),
    )
    try:
        child.expect_exact("In [1]: ")
        child.sendline("%load_ext gemini_magic")
        child.expect_exact("In [2]: ")
        child.sendline("%%gemini")
        child.sendline(PROMPT)
        child.sendline("")  # two blank lines end a cell magic at the simple prompt
        child.sendline("")
        child.expect_exact("In [3]: ")
        screen = child.before
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert "Traceback" not in screen, screen
    assert_printed_once_in_order(screen)


def test_ipython_script_prints_each_streamed_part_once(
    emulator_with_replies, tmp_path: Path
) -> None:
    emulator_with_replies([REPLY])
    script = tmp_path / "ask.ipy"
    # A .ipy file runs as one cell, so the cell magic comes first and the extension is
    # loaded by IPython's --ext option.
    script.write_text(f"%%gemini\n{PROMPT}\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "IPython", "--colors=NoColor", "--ext=gemini_magic", str(script)],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert_printed_once_in_order(run.stdout)
