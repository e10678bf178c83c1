"""Fixtures that run JupyterLab in headless Chromium against the offline emulator.

Why a real browser: an extension that was never seen rendering in JupyterLab has not
been tested where its users live.  The harness starts a JupyterLab server on
127.0.0.1 whose kernels point at the emulator (``GOOGLE_GEMINI_BASE_URL``), drives
Debian's ``/usr/bin/chromium`` through Playwright (never a downloaded browser), opens a
notebook, runs all its cells through the menu and hands the page to the test.

Without ``/usr/bin/chromium`` the browser tests fail under ``CI=true`` and are skipped,
with a banner at the end of the run, everywhere else.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from gemini_magic.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Variables that would send the kernels to the real service instead of the emulator
# (GOOGLE_API_KEY wins over GEMINI_API_KEY in the SDK; Vertex AI has its own switch).
REAL_SERVICE_VARS = (
    "GOOGLE_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_APPLICATION_CREDENTIALS",
)
SERVER_START_TIMEOUT = 120.0
CELLS_TIMEOUT_MS = 120_000
MAX_SCREENSHOT_HEIGHT = 2400
# The notebook on show (JupyterLab keeps other tabs in the DOM, hidden).
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

_missing_browser: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say loudly that the browser tests did not run, rather than one 's' among dots."""
    if _missing_browser:
        terminalreporter.write_sep("!", "BROWSER TESTS SKIPPED", red=True, bold=True)
        terminalreporter.write_line(_missing_browser[0], red=True)


def _require_browser() -> None:
    """Fail (CI) or skip (locally) when Chromium or Playwright is missing."""
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install it with `sudo apt-get install chromium`"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed: pip install -e '.[browser]'"
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run under CI=true: {reason}", pytrace=False)
    _missing_browser.append(reason)
    pytest.skip(reason)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LabServer:
    """A running JupyterLab: where it is, how to log in, which folder it serves."""

    url: str
    token: str
    root: Path
    emulator_url: str
    log: Path


@pytest.fixture(scope="session")
def emulator_port() -> int:
    """The port the emulator will listen on, chosen before JupyterLab starts.

    Kernels inherit the server's environment, so the URL must be fixed at server
    start; the emulator itself starts only when a product test asks for it, which
    keeps the harness test independent of the product.
    """
    return free_port()


@pytest.fixture(scope="session")
def emulator_key() -> str:
    """The key the emulator will answer, chosen with its port before JupyterLab starts."""
    import secrets

    return secrets.token_urlsafe(32)


@pytest.fixture(scope="session")
def lab_emulator(emulator_port: int, emulator_key: str) -> Iterator[Emulator]:
    """The offline emulator the JupyterLab kernels talk to.

    No scripted replies: the browser tests write their own notebooks and rely on the
    emulator's built-in analyst (plot / mean of an attached CSV, computed for real),
    so a change to the example notebooks' replies cannot break them.
    """
    from gemini_magic.emulator import Emulator

    with Emulator(host="127.0.0.1", port=emulator_port, key=emulator_key) as emu:
        yield emu


def _lab_env(tmp: Path, emulator_url: str, emulator_key: str) -> dict[str, str]:
    """The server's environment: emulator URL and key, and Jupyter dirs of its own.

    Private Jupyter config/data dirs keep a user's own kernelspecs (a stale ``gemini``
    spec in ~/.local) and settings out of the test; the venv's specs still count.
    """
    env = {k: v for k, v in os.environ.items() if k not in REAL_SERVICE_VARS}
    env.pop("MPLBACKEND", None)
    env.update(
        GOOGLE_GEMINI_BASE_URL=emulator_url,
        GEMINI_API_KEY=emulator_key,
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        IPYTHONDIR=str(tmp / "ipython"),
        JUPYTER_PLATFORM_DIRS="1",
    )
    return env


def _write_lab_settings(settings: Path) -> None:
    """Turn off the news and update checks: no requests to the internet, no toasts."""
    path = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


def _wait_for_server(url: str, token: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Block until ``/api/status`` answers, or fail with the server's log."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    request = urllib.request.Request(
        f"{url}/api/status", headers={"Authorization": f"token {token}"}
    )
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    pytest.fail(f"JupyterLab did not answer within {SERVER_START_TIMEOUT} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def jupyterlab(
    tmp_path_factory: pytest.TempPathFactory, emulator_port: int, emulator_key: str
) -> Iterator[LabServer]:
    """A JupyterLab server on 127.0.0.1 serving a temporary copy of ``notebooks/``."""
    _require_browser()
    tmp = tmp_path_factory.mktemp("jupyterlab")
    root = tmp / "notebooks"
    if NOTEBOOKS.is_dir():
        shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    else:
        root.mkdir()
    _write_lab_settings(tmp / "settings")
    token = secrets.token_hex(16)
    port = free_port()
    emulator_url = f"http://127.0.0.1:{emulator_port}"
    log = tmp / "jupyterlab.log"
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--IdentityProvider.token={token}",
        "--ServerApp.ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={tmp / 'settings'}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
        # The PyPI extension manager would query the internet; CI containers run as root.
        "--LabApp.extension_manager=readonly",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            command,
            env=_lab_env(tmp, emulator_url, emulator_key),
            cwd=root,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(url, token, proc, log)
        yield LabServer(url=url, token=token, root=root, emulator_url=emulator_url, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, launched by Playwright (no downloaded browser)."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


class NotebookPage:
    """One notebook open in JupyterLab, driven the way a user would (menus, clicks)."""

    def __init__(self, page: Page, server: LabServer) -> None:
        self.page = page
        self.server = server

    def open(self, name: str) -> None:
        """Open ``name`` (relative to the server root) and wait for an idle kernel."""
        self.page.goto(f"{self.server.url}/lab/tree/{name}?reset&token={self.server.token}")
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=CELLS_TIMEOUT_MS)
        self.wait_for_idle()

    def wait_for_idle(self) -> None:
        """Wait until a kernel is connected and the toolbar's indicator says idle.

        The indicator also says idle while the notebook has no kernel yet ("No Kernel"
        in the toolbar); running cells then would ask for a kernel in a dialog.
        """
        self.page.wait_for_function(
            """panel => {
                const name = document.querySelector(panel + ' .jp-Toolbar-kernelName');
                const state = document.querySelector(panel + ' .jp-Notebook-ExecutionIndicator');
                return name && state && !/^(No Kernel|)$/.test(name.textContent.trim())
                    && state.dataset.status === 'idle';
            }""",
            arg=PANEL,
            timeout=CELLS_TIMEOUT_MS,
        )

    def kernel_name(self) -> str:
        """The kernel's display name as the notebook toolbar shows it."""
        return self.page.locator(f"{PANEL} .jp-Toolbar-kernelName").inner_text().strip()

    def run_all_cells(self) -> None:
        """Run > Run All Cells, then wait until every code cell has an execution count."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        self.page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        self.page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        try:
            self.page.wait_for_function(
                """selector => {
                    const prompts = [...document.querySelectorAll(selector)];
                    return prompts.length > 0
                        && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
                }""",
                arg=f"{PANEL} .jp-CodeCell .jp-InputPrompt",
                timeout=CELLS_TIMEOUT_MS,
            )
            self.wait_for_idle()
        except PlaywrightTimeout:
            shot = self.server.log.with_name("timeout.png")
            self.page.screenshot(path=str(shot))
            prompts = self.page.locator(f"{PANEL} .jp-InputPrompt").all_inner_texts()
            pytest.fail(
                f"cells did not finish in {CELLS_TIMEOUT_MS / 1000:.0f} s; prompts {prompts}, "
                f"outputs {self.outputs().all_inner_texts()}, screenshot {shot}, "
                f"server log {self.server.log}"
            )

    def outputs(self) -> Any:
        """The rendered outputs of the notebook (a Playwright locator)."""
        return self.page.locator(f"{PANEL} .jp-OutputArea-output")

    def errors(self) -> list[str]:
        """Text of every traceback and stderr output: a user would see each as a problem."""
        selector = f"{PANEL} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        return self.page.locator(selector).all_inner_texts()

    def screenshot(self, path: Path) -> None:
        """Save the window to ``path``, grown to show the whole notebook at once.

        The file browser is folded away and the window made as tall as the notebook
        (up to a limit), so the picture shows every cell from prompt to chart.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        open_sidebar = self.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
        if open_sidebar.count():
            open_sidebar.first.click()
            self.page.wait_for_selector("#jp-left-stack", state="hidden")
        # How far the last cell's bottom lies below the visible part of the notebook
        # (the notebook can scroll past its end, so scrollHeight would not tell).
        hidden = """sel => {
            const outer = document.querySelector(sel + ' .jp-WindowedPanel-outer');
            const cells = outer.querySelectorAll('.jp-Cell');
            const last = cells[cells.length - 1].getBoundingClientRect().bottom;
            return Math.ceil(last - outer.getBoundingClientRect().bottom);
        }"""
        self.page.locator(f"{PANEL} .jp-WindowedPanel-outer").evaluate("n => n.scrollTo(0, 0)")
        overflow = self.page.evaluate(hidden, PANEL)
        if overflow > 0:
            size = self.page.viewport_size or {"width": 1280, "height": 900}
            height = min(size["height"] + overflow + 16, MAX_SCREENSHOT_HEIGHT)
            self.page.set_viewport_size({"width": size["width"], "height": height})
            if height < MAX_SCREENSHOT_HEIGHT:
                self.page.wait_for_function(f"sel => ({hidden})(sel) <= 0", arg=PANEL)
        self.page.screenshot(path=str(path))


@pytest.fixture
def notebook(browser: Browser, jupyterlab: LabServer) -> Iterator[NotebookPage]:
    """A fresh browser page on the JupyterLab server (open a notebook with ``.open``)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        yield NotebookPage(page, jupyterlab)
    finally:
        context.close()


def write_notebook(root: Path, name: str, kernel: str, cells: list[str]) -> str:
    """Write a notebook of code cells for ``kernel`` under ``root``; return its name."""
    display = {"python3": "Python 3 (ipykernel)", "gemini": "Gemini"}.get(kernel, kernel)
    language = "python"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": display, "language": language}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, root / name)
    return name


@pytest.fixture
def make_notebook(jupyterlab: LabServer) -> Any:
    """``make_notebook(name, kernel, cells)`` writes a notebook the server can open."""

    def make(name: str, kernel: str, cells: list[str]) -> str:
        return write_notebook(jupyterlab.root, name, kernel, cells)

    return make
