"""``python -m gemini_magic.emulator``: serve the offline Gemini API until Ctrl-C."""

from __future__ import annotations

import argparse
import threading

from gemini_magic.emulator.service import DEFAULT_EXEC_TIMEOUT, Emulator
from gemini_magic.errors import GeminiMagicError


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, serve, and stop cleanly on Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m gemini_magic.emulator",
        description="Offline emulator of the Gemini REST API (with real code execution).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--replies", help="scripted replies file (YAML or JSON)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between SSE events")
    parser.add_argument(
        "--exec-timeout",
        type=float,
        default=DEFAULT_EXEC_TIMEOUT,
        help="seconds each code execution may run (default 30)",
    )
    args = parser.parse_args(argv)
    try:
        emulator = Emulator(
            replies=args.replies,
            delay=args.delay,
            host=args.host,
            port=args.port,
            exec_timeout=args.exec_timeout,
        ).start()
    except GeminiMagicError as exc:
        parser.exit(2, f"error: {exc}\n")
    print(f"Gemini offline emulator serving on {emulator.url}", flush=True)
    print(f"  export GOOGLE_GEMINI_BASE_URL={emulator.url}  (any API key works)", flush=True)
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


if __name__ == "__main__":
    raise SystemExit(main())
