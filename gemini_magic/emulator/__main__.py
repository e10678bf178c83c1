"""``python -m gemini_magic.emulator``: serve the offline Gemini API until Ctrl-C.

The emulator runs the code of its replies as the user who started it, so it answers
only its own API key: a random one, printed (or written to ``--key-file``, readable by
its owner only), or the one given with ``--key``.  It listens on loopback unless
``--host`` says otherwise, and then warns that whoever reaches that address with the
key can run code.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path

from gemini_magic.emulator.service import DEFAULT_EXEC_TIMEOUT, Emulator
from gemini_magic.errors import ConfigurationError, GeminiMagicError

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, serve, and stop cleanly on Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m gemini_magic.emulator",
        description="Offline emulator of the Gemini REST API (with real code execution).",
    )
    parser.add_argument(
        "--host",
        help="address to bind (default 127.0.0.1, loopback only); anyone who can reach "
        "another address and has the key can run code as you",
    )
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--replies", help="scripted replies file (YAML or JSON)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between SSE events")
    parser.add_argument(
        "--exec-timeout",
        type=float,
        default=DEFAULT_EXEC_TIMEOUT,
        help="seconds each code execution may run (default 30)",
    )
    parser.add_argument(
        "--key",
        help="the API key to require (default: a random one); other users can read a "
        "command line, so prefer the random key on a shared machine",
    )
    parser.add_argument(
        "--key-file",
        type=Path,
        help="write the key to this new file, readable by you only, instead of printing it",
    )
    args = parser.parse_args(argv)
    host = "127.0.0.1" if args.host is None else args.host
    try:
        emulator = Emulator(
            replies=args.replies,
            delay=args.delay,
            host=host,
            port=args.port,
            exec_timeout=args.exec_timeout,
            key=args.key,
        )
        if args.key_file is not None:
            write_key_file(args.key_file, emulator.key)
        emulator.start()
    except GeminiMagicError as exc:
        parser.exit(2, f"error: {exc}\n")
    if host not in _LOOPBACK:
        print(
            f"warning: listening on {host}, not only on this machine's loopback: anyone who "
            "can reach it and has the key can run code as you.",
            file=sys.stderr,
            flush=True,
        )
    print(f"Gemini offline emulator serving on {emulator.url}", flush=True)
    print(f"  export GOOGLE_GEMINI_BASE_URL={emulator.url}", flush=True)
    if args.key_file is not None:
        print(f"  GEMINI_API_KEY: the key in {args.key_file} (only that key works)", flush=True)
    else:
        print(f"  export GEMINI_API_KEY={emulator.key}  (only this key works)", flush=True)
    stopped = threading.Event()
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    print("Gemini offline emulator stopped.", flush=True)
    return 0


def write_key_file(path: Path, key: str) -> None:
    """Write ``key`` to a new file that only its owner can read (mode 0600)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ConfigurationError(f"Cannot create the key file {path}: {exc.strerror}.") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(key + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
