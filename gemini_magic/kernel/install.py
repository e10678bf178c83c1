"""Install the Gemini kernelspec where a JupyterLab in another environment finds it.

``pip install gemini-magic`` already ships the kernelspec as wheel shared data
(``<prefix>/share/jupyter/kernels/gemini``), which is enough when JupyterLab runs from
the same environment.  When it runs from another one, this command writes a spec whose
``argv[0]`` is the absolute path of *this* Python, so the kernel starts here with the
packages installed here.  The logos and the rest of ``kernel.json`` (interrupt mode,
metadata) are taken from the shipped spec, so there is one source of truth.
"""

from __future__ import annotations

import argparse
import json
import shutil
import site
import sys
import tempfile
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager

from gemini_magic.errors import ConfigurationError

KERNEL_NAME = "gemini"
DISPLAY_NAME = "Gemini"
KERNEL_MODULE = "gemini_magic.kernel"


def shipped_spec_dir() -> Path:
    """The kernelspec folder this installation carries.

    pip puts wheel shared data under the installation scheme's data directory:
    ``sys.prefix`` for a venv or system install, the user base for ``pip install --user``.
    A source checkout keeps it in the top-level ``kernel/`` folder.
    """
    candidates = [
        Path(sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME,
        Path(site.getuserbase()) / "share" / "jupyter" / "kernels" / KERNEL_NAME,
        Path(__file__).resolve().parents[2] / "kernel",
    ]
    for candidate in candidates:
        if (candidate / "kernel.json").is_file():
            return candidate
    raise ConfigurationError(
        "cannot find the Gemini kernelspec that ships with gemini-magic; looked in: "
        + ", ".join(str(c) for c in candidates),
        hint="Reinstall with: pip install --force-reinstall gemini-magic",
    )


def install(
    *,
    user: bool = False,
    prefix: str | None = None,
    kernel_name: str = KERNEL_NAME,
    display_name: str | None = None,
) -> str:
    """Install the spec for this Python and return the folder it was written to.

    Without ``user`` or ``prefix`` it goes to the system-wide Jupyter folder, as
    ``python -m ipykernel install`` does.
    """
    if user and prefix:
        raise ConfigurationError("choose one of --user, --sys-prefix and --prefix, not several")
    source = shipped_spec_dir()
    spec = json.loads((source / "kernel.json").read_text(encoding="utf-8"))
    spec["argv"] = [sys.executable, "-m", KERNEL_MODULE, "-f", "{connection_file}"]
    spec["display_name"] = display_name or (
        DISPLAY_NAME if kernel_name == KERNEL_NAME else kernel_name
    )
    # Stage a copy: the destination may be the very folder the spec was read from.
    with tempfile.TemporaryDirectory() as staging:
        staged = Path(staging) / kernel_name
        shutil.copytree(source, staged)
        (staged / "kernel.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
        return KernelSpecManager().install_kernel_spec(
            str(staged), kernel_name=kernel_name, user=user, prefix=prefix
        )


def main(argv: list[str]) -> None:
    """``python -m gemini_magic.kernel install [--user | --sys-prefix | --prefix P] ...``."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {KERNEL_MODULE} install",
        description="Install the Gemini kernelspec for this Python environment.",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install for the current user")
    where.add_argument(
        "--sys-prefix",
        action="store_true",
        help=f"install into this environment's prefix ({sys.prefix})",
    )
    where.add_argument("--prefix", metavar="P", help="install into the prefix P")
    parser.add_argument("--name", default=KERNEL_NAME, help="kernel name (default: gemini)")
    parser.add_argument(
        "--display-name", help="name shown in the launcher (default: Gemini, or --name)"
    )
    opts = parser.parse_args(argv)
    prefix = sys.prefix if opts.sys_prefix else opts.prefix
    dest = install(
        user=opts.user, prefix=prefix, kernel_name=opts.name, display_name=opts.display_name
    )
    print(f"Installed kernelspec {opts.name} in {dest}")
