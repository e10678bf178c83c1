"""The warm-up after ``%load_ext``: in the background, never in the user's way."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def _run(script: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_load_ext_returns_at_once_and_the_warm_up_imports_the_sdk(emulator):
    out = _run(
        """
        import sys
        from IPython.testing.globalipapp import start_ipython
        shell = start_ipython()
        shell.run_line_magic("load_ext", "gemini_magic")
        magics = shell.magics_manager.registry["GeminiMagics"]
        print("thread", magics.warmup.thread.name)
        magics.warmup.thread.join(60)
        print("sdk", "google.genai" in sys.modules, "pandas", "pandas" in sys.modules)
        print("client", magics.session._client is not None, "error", magics.warmup.error)
        """,
        GEMINI_API_KEY=emulator.key,
        GOOGLE_GEMINI_BASE_URL=emulator.url,
    )
    assert "thread gemini-magic-warmup" in out
    assert "sdk True pandas True" in out
    assert "client True error None" in out
    assert emulator.log == []  # warming up sends nothing


def test_a_warm_up_failure_surfaces_on_the_first_prompt_not_before(emulator):
    out = _run(
        """
        from IPython.testing.globalipapp import start_ipython
        shell = start_ipython()
        shell.run_line_magic("load_ext", "gemini_magic")  # no key: must not raise here
        magics = shell.magics_manager.registry["GeminiMagics"]
        magics.warmup.thread.join(60)
        print("kept", type(magics.warmup.error).__name__)
        result = shell.run_cell("%%gemini\\nHello.")
        print("prompt", type(result.error_in_exec).__name__)
        """,
        GOOGLE_GEMINI_BASE_URL=emulator.url,
    )
    assert "kept ConfigurationError" in out
    assert "prompt ConfigurationError" in out
    assert emulator.log == []
