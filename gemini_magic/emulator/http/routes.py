"""Which module answers which API path, and what every API request goes through first.

Before a route runs (and after the server checked the API key, see :func:`key_exempt`):
the method is checked (405), and the request takes its queued fault, if any (a
``status`` fault answers instead of the route, a ``stall`` before it waits first).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gemini_magic.emulator.answers.faults import (
    CACHES,
    FILES,
    GENERATE,
    INTERACT,
    INTERACT_MANAGE,
    INTERACT_STREAM,
    STREAM,
    Fault,
)
from gemini_magic.emulator.http import generate as generate_routes
from gemini_magic.emulator.http import interactions as interaction_routes
from gemini_magic.emulator.http import resources as resource_routes
from gemini_magic.emulator.wire.codec import GENERATE_ERRORS, ErrorDialect, RequestError
from gemini_magic.emulator.wire.interactions import INTERACTION_ERRORS

if TYPE_CHECKING:
    from gemini_magic.emulator.http.server import Handler

_VERSION = r"(v1|v1beta|v1alpha)"

Serve = Callable[["Handler", re.Match[str], Fault | None], None]
FaultKind = Callable[["Handler", re.Match[str]], str | None]


@dataclass(frozen=True)
class Route:
    """A family of paths: its methods, which faults it takes, who answers it."""

    pattern: re.Pattern[str]
    methods: tuple[str, ...]
    fault_kind: FaultKind
    serve: Serve
    dialect: ErrorDialect = GENERATE_ERRORS


def _fixed(kind: str | None) -> FaultKind:
    return lambda handler, match: kind


def _generate_kind(handler: Handler, match: re.Match[str]) -> str:
    return STREAM if match.group(3).startswith("stream") else GENERATE


def _upload_kind(handler: Handler, match: re.Match[str]) -> str | None:
    # The upload-data step takes no faults: the SDK retries it with sleeps.
    return None if "upload_id" in handler.query else FILES


def _interaction_kind(handler: Handler, match: re.Match[str]) -> str:
    if match.group(2) is not None:
        return INTERACT_MANAGE
    return INTERACT_STREAM if interaction_routes.wants_stream(handler) else INTERACT


_UPLOAD = Route(
    re.compile(rf"^/upload/{_VERSION}/files$"),
    ("POST",),
    _upload_kind,
    resource_routes.serve_upload,
)

ROUTES = (
    Route(
        re.compile(rf"^/{_VERSION}/models/([^/:]+):(generateContent|streamGenerateContent)$"),
        ("POST",),
        _generate_kind,
        generate_routes.serve,
    ),
    Route(
        re.compile(rf"^/{_VERSION}/interactions(?:/([^/:]+?))?(/cancel)?$"),
        ("GET", "POST", "DELETE"),
        _interaction_kind,
        interaction_routes.serve,
        INTERACTION_ERRORS,
    ),
    _UPLOAD,
    Route(
        re.compile(rf"^/{_VERSION}/files(?:/([^/:]+))?$"),
        ("GET", "DELETE"),
        _fixed(FILES),
        resource_routes.serve_files,
    ),
    Route(
        re.compile(rf"^/{_VERSION}/cachedContents(?:/([^/:]+))?$"),
        ("GET", "POST", "PATCH", "DELETE"),
        _fixed(CACHES),
        resource_routes.serve_caches,
    ),
    Route(
        re.compile(rf"^/{_VERSION}/models(?:/([^/:]+))?$"),
        ("GET",),
        _fixed(None),
        resource_routes.serve_models,
    ),
)


def key_exempt(handler: Handler) -> bool:
    """Whether this request may come without the API key: only the upload-data step,
    as on the service, whose unguessable upload URL is the secret."""
    return "upload_id" in handler.query and _UPLOAD.pattern.match(handler.url_path) is not None


def serve(handler: Handler) -> None:
    """Answer one API request (anything outside ``/_emulator/``)."""
    path, method = handler.url_path, handler.method
    route, match = next(
        ((r, m) for r in ROUTES if (m := r.pattern.match(path)) is not None), (None, None)
    )
    if route is not None:
        handler.dialect = route.dialect
    if route is None or match is None:
        raise RequestError(404, f"Method not found: {method} {path}.")
    if method not in route.methods:
        raise RequestError(
            405, f"{method} is not allowed on {path}; use {' or '.join(route.methods)}."
        )
    kind = route.fault_kind(handler, match)
    fault = handler.emulator.faults.take(kind, path) if kind else None
    if fault and fault.kind == "stall" and fault.params["after"] is None:
        handler.emulator.wait(float(fault.params["seconds"]))
    if fault and fault.kind == "status":
        raise _status_error(fault)
    route.serve(handler, match, fault)


def _status_error(fault: Fault) -> RequestError:
    code = int(fault.params["code"])
    headers: dict[str, str] = {}
    details = None
    retry_after = fault.params.get("retry_after")
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
        details = [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after}s"}
        ]
    return RequestError(code, fault.params.get("message"), headers=headers, details=details)
