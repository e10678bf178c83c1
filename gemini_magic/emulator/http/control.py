"""The ``/_emulator/`` control API: what tests and scripts call over HTTP (never the SDK).

``GET log``, ``POST faults {"kind", "count", ...params}``, ``GET faults``,
``POST reset``, ``GET|POST config {"delay", "exec_timeout", "replies"}``.  They need the
emulator's API key, as every route does (scripted replies are code it will run), and
are not logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gemini_magic.emulator.wire import codec as wire
from gemini_magic.emulator.wire.codec import RequestError
from gemini_magic.errors import GeminiMagicError

if TYPE_CHECKING:
    from gemini_magic.emulator.http.server import Handler


def serve(handler: Handler, action: str) -> None:
    """Run one control action; a bad one is a 400 that says why."""
    emulator, method, raw = handler.emulator, handler.method, handler.raw
    body = wire.parse_json(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise RequestError(400, "The control API takes a JSON object.")
    try:
        if (action, method) == ("log", "GET"):
            handler.send_json(200, {"requests": [r.to_json() for r in emulator.log]})
        elif (action, method) == ("faults", "POST"):
            params = dict(body)
            kind = params.pop("kind", None)
            count = params.pop("count", 1)
            result = emulator.inject(str(kind), count, **params)
            expired = result if isinstance(result, list) else []
            pending = [f.to_json() for f in emulator.faults.pending()]
            handler.send_json(200, {"pending": pending, "expired": expired})
        elif (action, method) == ("faults", "GET"):
            handler.send_json(200, {"pending": [f.to_json() for f in emulator.faults.pending()]})
        elif (action, method) == ("reset", "POST"):
            emulator.reset()
            handler.send_json(200, {})
        elif action == "config" and method in ("GET", "POST"):
            emulator.configure(**body)
            handler.send_json(200, emulator.config())
        else:
            raise RequestError(404, f"No control action {method} {handler.url_path}.")
    except GeminiMagicError as exc:
        raise RequestError(400, exc.message) from None
    except TypeError as exc:
        raise RequestError(400, f"Bad control request: {exc}") from None
