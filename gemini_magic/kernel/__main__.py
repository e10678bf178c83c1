"""``python -m gemini_magic.kernel``: start the Gemini kernel, or ``install`` its kernelspec.

Jupyter starts the kernel with ``-f CONNECTION_FILE`` (see kernel/kernel.json);
``python -m gemini_magic.kernel install --help`` describes the install command.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Dispatch between the install command and launching the kernel."""
    if sys.argv[1:2] == ["install"]:
        from gemini_magic.kernel.install import main as install_main

        install_main(sys.argv[2:])
        return
    from ipykernel.kernelapp import IPKernelApp

    from gemini_magic.kernel import GeminiKernel

    IPKernelApp.launch_instance(kernel_class=GeminiKernel)


if __name__ == "__main__":
    main()
