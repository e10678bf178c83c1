"""Fixtures shared by every test: the offline emulator (and, below, the IPython shell).

One emulator server serves the whole session; each test gets it reset (no faults,
files, log; initial settings) and the SDK's environment pointed at it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google import genai
from hypothesis import HealthCheck, settings

from gemini_magic.emulator import Emulator

TEST_API_KEY = "test-key-not-a-secret"

# Property tests (marked ``properties``) run a modest number of generated examples in the
# default suite and 10,000 each in the fuzz run (``scripts/fuzz``: ``--hypothesis-profile
# fuzz``).  Both are derandomized with no example database, so a run in CI generates the
# same inputs as the same run here, and a failure is reproduced by running it again.
settings.register_profile(
    "default", max_examples=60, deadline=None, derandomize=True, database=None
)
settings.register_profile(
    "fuzz",
    max_examples=10_000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("default")


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    """The session's emulator on a free loopback port."""
    with Emulator(replies=[]) as server:  # [] : ignore $GEMINI_EMULATOR_REPLIES
        yield server


@pytest.fixture
def emulator(emulator_server: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The emulator, reset, with GOOGLE_GEMINI_BASE_URL / GEMINI_API_KEY pointing at it
    (the key is the emulator's own: it answers no other)."""
    emulator_server.reset()
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", emulator_server.url)
    monkeypatch.setenv("GEMINI_API_KEY", emulator_server.key)
    for name in ("GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    yield emulator_server
    emulator_server.reset()


@pytest.fixture
def replies() -> list[dict]:
    """The scripted replies the `client` fixture gives the emulator: none (the built-in
    analyst answers) unless a test module overrides this fixture with its own script."""
    return []


@pytest.fixture
def client(emulator: Emulator, replies: list[dict]) -> genai.Client:
    """The real SDK client, built from the environment the `emulator` fixture set, as users
    build theirs, but without the SDK's retries, so a fault shows at once."""
    emulator.set_replies(replies)
    return genai.Client(http_options={"retry_options": {"attempts": 1}})


# ---------------------------------------------------------------------------------------
# The product: an in-process IPython shell with gemini_magic loaded.
# ---------------------------------------------------------------------------------------


def _magic_shell(monkeypatch: pytest.MonkeyPatch, tmp_path, api: str | None) -> Iterator[object]:
    """IPython with a fresh ``GeminiMagics`` (new conversations, default traits).

    The shell is IPython's global test shell; the magics are registered anew for each
    test so no conversation or setting leaks from one test to the next.
    """
    from IPython.testing.globalipapp import get_ipython

    from gemini_magic.magics import GeminiMagics

    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    shell = get_ipython()
    shell.config.pop("GeminiMagics", None)  # settings made by %config in earlier tests
    magics = GeminiMagics(shell=shell)
    if api is not None:
        magics.api = api
    shell.register_magics(magics)
    yield shell
    magics.close()
    for name in ("_gemini", "answer", "sales", "big", "tricky", "threshold"):
        shell.user_ns.pop(name, None)


@pytest.fixture
def ip(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[object]:
    """The shell on the classic generateContent API, whose request bodies most tests
    assert; the Interactions API (the default) has the `ix` fixture."""
    yield from _magic_shell(monkeypatch, tmp_path, "generate_content")


@pytest.fixture
def ix(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[object]:
    """The shell with the default settings: prompts go to the Interactions API."""
    yield from _magic_shell(monkeypatch, tmp_path, None)


@pytest.fixture(params=["interactions", "generate_content"])
def any_api(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> Iterator[object]:
    """The shell on each API in turn, for behaviour that must not depend on the API:
    the test runs once on Interactions (the default) and once on generateContent."""
    yield from _magic_shell(monkeypatch, tmp_path, request.param)


@pytest.fixture
def inline(ip: Any) -> Iterator[None]:
    """The inline Matplotlib backend and PNG output, as in a notebook, undone afterwards.

    The test shell is a terminal shell, which shows only text/plain.
    """
    import matplotlib.pyplot as plt
    from matplotlib_inline.backend_inline import configure_inline_support

    formatter = ip.display_formatter
    active, enabled = formatter.active_types, formatter.formatters["image/png"].enabled
    formatter.active_types = [*active, "image/png"]
    formatter.formatters["image/png"].enabled = True
    ip.enable_matplotlib("inline")
    yield
    plt.close("all")
    configure_inline_support(ip, "agg")
    plt.switch_backend("agg")
    formatter.active_types, formatter.formatters["image/png"].enabled = active, enabled


@pytest.fixture
def emulator_with_replies(emulator: Emulator):
    """Give the emulator scripted replies for one test: ``emulator_with_replies([...])``."""

    def use(replies: list[dict]) -> Emulator:
        emulator.set_replies(replies)
        return emulator

    return use
