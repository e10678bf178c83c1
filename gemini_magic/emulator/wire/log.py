"""The record of one request the emulator received, for tests to assert on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LoggedRequest:
    """One API request (control requests are not logged).

    ``headers`` have lower-case names and the API key replaced by ``"***"``; ``body``
    is the parsed JSON (None if the body was empty or not JSON); ``raw`` its bytes.
    ``status`` is the HTTP status sent (0 if none was), ``bytes_out`` the body bytes
    written (for a stream, the bytes of its events).
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw: bytes
    bytes_in: int
    status: int
    bytes_out: int

    def to_json(self) -> dict[str, Any]:
        """The record as the HTTP control API returns it (without the raw bytes)."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "bytes_in": self.bytes_in,
            "status": self.status,
            "bytes_out": self.bytes_out,
        }
