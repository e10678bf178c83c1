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


def test_a_warm_up_that_stopped_working_is_said_once_and_shown_by_status(emulator):
    """If the SDK's private modules the warm-up uses move, the warm-up fails: prompts must
    still work, and the user must hear of it (one warning, and ``%gemini``), not nothing."""
    out = _run(
        """
        import warnings
        from IPython.testing.globalipapp import start_ipython
        import gemini_magic.warmup as warmup

        def moved():  # as if the SDK had moved the private module the warm-up uses
            raise ModuleNotFoundError("No module named 'google.genai._gaos'")

        warmup._serialize_sample_request = moved
        shell = start_ipython()
        shell.run_line_magic("load_ext", "gemini_magic")
        magics = shell.magics_manager.registry["GeminiMagics"]
        magics.warmup.thread.join(60)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for prompt in ("Hello.", "Hello again."):
                result = shell.run_cell("%%gemini\\n" + prompt)
                print("prompt ok", result.success)
        print("warnings", [str(w.message) for w in caught if w.category is RuntimeWarning])
        print(repr(shell.run_line_magic("gemini", "")))
        """,
        GEMINI_API_KEY=emulator.key,
        GOOGLE_GEMINI_BASE_URL=emulator.url,
    )
    assert out.count("prompt ok True") == 2
    (warnings_line,) = [line for line in out.splitlines() if line.startswith("warnings")]
    assert warnings_line.count("warm-up failed") == 1, warnings_line
    assert "ModuleNotFoundError" in warnings_line
    (status,) = [line for line in out.splitlines() if line.strip().startswith("warm-up")]
    assert "failed: ModuleNotFoundError: No module named 'google.genai._gaos'" in status


def test_after_the_warm_up_the_first_prompt_builds_no_request_serialiser(emulator):
    """The warm-up's sample request builds the SDK's Interactions request serialiser (its
    first use costs a prompt about a fifth of a second): a warm-up that stopped doing so
    would leave that cost on the first prompt, unseen."""
    out = _run(
        """
        import pandas as pd
        from IPython.testing.globalipapp import start_ipython
        shell = start_ipython()
        shell.run_line_magic("load_ext", "gemini_magic")
        magics = shell.magics_manager.registry["GeminiMagics"]
        magics.warmup.thread.join(60)
        from google.genai._gaos.utils import unions
        warm = set(unions._DISPATCH_ADAPTERS)
        shell.user_ns["sales"] = pd.DataFrame({"x": [1, 2]})
        result = shell.run_cell("%%gemini\\nSum x in {sales}.")
        print("prompt ok", result.success, "error", magics.warmup.error)
        print("built by the warm-up", len(warm))
        print("built by the prompt", len(set(unions._DISPATCH_ADAPTERS) - warm))
        """,
        GEMINI_API_KEY=emulator.key,
        GOOGLE_GEMINI_BASE_URL=emulator.url,
    )
    assert "prompt ok True error None" in out
    assert "built by the warm-up 0" not in out
    assert "built by the prompt 0" in out


def test_loading_imports_neither_the_sdk_nor_the_emulator():
    """What ``%load_ext`` imports (the magic, the session, the backends it wires) names
    the SDK only through ``api.sdk``, so the SDK (most of a second) waits for the warm-up."""
    out = _run(
        """
        import sys
        import gemini_magic.magics, gemini_magic.session
        loaded = [m for m in sys.modules if m.startswith(("google.genai", "pandas", "pyarrow"))]
        print("heavy", loaded, "emulator", "gemini_magic.emulator" in sys.modules)
        print("backends", "gemini_magic.api.interactions" in sys.modules)
        """
    )
    assert "heavy [] emulator False" in out
    assert "backends True" in out
