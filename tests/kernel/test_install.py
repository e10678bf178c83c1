"""The Gemini kernelspec: what the repository ships, what the wheel carries, what
``pip install`` and ``python -m gemini_magic.kernel install`` put where Jupyter looks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = ROOT / "kernel"
SPEC_FILES = {"kernel.json", "logo-32x32.png", "logo-64x64.png", "logo-svg.svg"}
# Variables that would let a Jupyter command find specs other than the ones under test.
_JUPYTER_VARS = ("JUPYTER_PATH", "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "XDG_DATA_HOME")


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """os.environ with a private HOME and none of the variables that add Jupyter paths."""
    env = {k: v for k, v in os.environ.items() if k not in (*_JUPYTER_VARS, "PYTHONPATH")}
    env.update(HOME=str(home), **extra)
    return env


def kernelspecs(python: Path | str, env: dict[str, str]) -> dict[str, dict]:
    """``jupyter kernelspec list --json`` as that Python's environment sees it.

    ``jupyter`` runs its subcommands from PATH, so that environment's bin/ goes first,
    as if it were activated.
    """
    bin_dir = str(Path(python).parent)
    out = subprocess.run(
        [str(python), "-m", "jupyter", "kernelspec", "list", "--json"],
        env={**env, "PATH": bin_dir + os.pathsep + env.get("PATH", "")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)["kernelspecs"]


def test_repository_kernelspec() -> None:
    assert {p.name for p in SPEC_DIR.iterdir()} == SPEC_FILES
    spec = json.loads((SPEC_DIR / "kernel.json").read_text())
    assert spec["argv"] == ["python", "-m", "gemini_magic.kernel", "-f", "{connection_file}"]
    assert spec["display_name"] == "Gemini"
    assert spec["language"] == "python"
    assert spec["interrupt_mode"] == "signal"
    # No env: the kernel inherits the server's, where GEMINI_API_KEY lives; a key must
    # never be written into a kernelspec.
    assert "env" not in spec
    for size in (32, 64):
        with Image.open(SPEC_DIR / f"logo-{size}x{size}.png") as image:
            assert image.size == (size, size)
    svg = ET.parse(SPEC_DIR / "logo-svg.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"


def test_wheel_ships_the_kernelspec_as_shared_data(tmp_path: Path) -> None:
    wheel_cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*wheel_cmd, "-w", str(tmp_path), str(ROOT)], check=True)
    (wheel,) = tmp_path.glob("gemini_magic-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        prefix = next(
            n.rsplit("/", 1)[0] + "/"
            for n in archive.namelist()
            if n.endswith("/share/jupyter/kernels/gemini/kernel.json")
        )
        assert prefix.endswith(".data/data/share/jupyter/kernels/gemini/")
        for name in SPEC_FILES:
            assert archive.read(prefix + name) == (SPEC_DIR / name).read_bytes()


def test_development_environment_lists_the_gemini_kernel(tmp_path: Path) -> None:
    # The editable install the test suite runs from carries the spec like a wheel would.
    specs = kernelspecs(sys.executable, isolated_env(tmp_path))
    assert "gemini" in specs
    installed = Path(specs["gemini"]["resource_dir"])
    assert installed.is_relative_to(sys.prefix)
    for name in SPEC_FILES:
        assert (installed / name).read_bytes() == (SPEC_DIR / name).read_bytes(), (
            f"{installed / name} differs from kernel/{name}: reinstall with pip install -e ."
        )


def install_command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gemini_magic.kernel", "install", *args],
        env=env,
        capture_output=True,
        text=True,
    )


def test_install_into_a_prefix_gives_a_startable_kernel(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    env = isolated_env(tmp_path)
    done = install_command(
        "--prefix", str(prefix), "--name", "gemini-test", "--display-name", "Gemini (test)", env=env
    )
    assert done.returncode == 0, done.stderr
    spec_dir = prefix / "share" / "jupyter" / "kernels" / "gemini-test"
    assert str(spec_dir) in done.stdout
    assert {p.name for p in spec_dir.iterdir()} == SPEC_FILES
    spec = json.loads((spec_dir / "kernel.json").read_text())
    # For a JupyterLab running from another environment: this Python, by absolute path.
    assert spec["argv"][0] == sys.executable
    assert spec["display_name"] == "Gemini (test)"
    assert spec["interrupt_mode"] == "signal"

    # A Jupyter pointed at that prefix lists it and can start it.
    env["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    assert kernelspecs(sys.executable, env)["gemini-test"]["resource_dir"] == str(spec_dir)
    ksm = KernelSpecManager(kernel_dirs=[str(spec_dir.parent)])
    km = KernelManager(kernel_name="gemini-test", kernel_spec_manager=ksm)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        info = kc.kernel_info(reply=True, timeout=60)["content"]
        assert "every cell is a prompt" in info["banner"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_install_for_the_user(tmp_path: Path) -> None:
    done = install_command("--user", env=isolated_env(tmp_path))
    assert done.returncode == 0, done.stderr
    spec = json.loads((tmp_path / ".local/share/jupyter/kernels/gemini/kernel.json").read_text())
    assert spec["display_name"] == "Gemini"
    assert spec["argv"][0] == sys.executable


def test_install_refuses_two_destinations(tmp_path: Path) -> None:
    done = install_command("--user", "--prefix", str(tmp_path), env=isolated_env(tmp_path))
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr
    assert not (tmp_path / ".local").exists()


def _pip_cache() -> str:
    """The pip cache of the real user, so a private HOME still reuses downloads."""
    return subprocess.run(
        [sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True, check=True
    ).stdout.strip()


_FRESH_KERNEL_CHECK = """
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name="gemini")
try:
    out = []
    reply = kc.execute_interactive(
        "%%py\\nimport sys, gemini_magic\\nprint(sys.prefix)", timeout=60,
        output_hook=lambda m: out.append(m["content"].get("text", "")),
    )
    assert reply["content"]["status"] == "ok", reply["content"]
    print("".join(out).strip())
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
"""


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_pip_install_alone_makes_the_kernel_appear(tmp_path: Path) -> None:
    """A fresh venv, ``pip install <project>`` with its real dependencies, nothing else."""
    env = isolated_env(tmp_path / "home", PIP_CACHE_DIR=_pip_cache())
    env.pop("VIRTUAL_ENV", None)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], env=env, check=True)
    python = venv / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, str(ROOT)], env=env, check=True)

    specs = kernelspecs(python, env)
    assert "gemini" in specs
    assert Path(specs["gemini"]["resource_dir"]) == venv / "share/jupyter/kernels/gemini"
    assert specs["gemini"]["spec"]["display_name"] == "Gemini"

    # The kernel that spec starts runs in the fresh venv, with the installed package.
    started = subprocess.run(
        [str(python), "-c", _FRESH_KERNEL_CHECK],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert started.stdout.strip().splitlines()[-1] == str(venv)

    # Re-installing over the shipped spec (same folder) keeps the logos.
    subprocess.run(
        [str(python), "-m", "gemini_magic.kernel", "install", "--sys-prefix"], env=env, check=True
    )
    spec_dir = venv / "share/jupyter/kernels/gemini"
    assert {p.name for p in spec_dir.iterdir()} == SPEC_FILES
    assert json.loads((spec_dir / "kernel.json").read_text())["argv"][0] == str(python)

    subprocess.run([str(python), "-m", "pip", "uninstall", "-y", "-q", "gemini-magic"], env=env)
    assert "gemini" not in kernelspecs(python, env)
