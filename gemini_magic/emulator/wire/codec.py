"""The service's JSON on the wire: reading requests as the SDK sends them, writing
responses and errors exactly as the service does.

The SDK mixes spellings (camelCase top-level and part keys, snake_case nested keys such
as ``mime_type``) and sends bytes as URL-safe base64, so every request is normalised to
camelCase here, once, before anything else looks at it.  Responses are written in the
documented camelCase form only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

STATUS_WORDS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    403: "The caller does not have permission.",
    404: "Requested entity was not found.",
    429: "Resource has been exhausted (e.g. check quota).",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}

# Part fields the service knows; anything else in a part is refused, as the service does.
_PART_FIELDS = frozenset(
    {
        "text",
        "inlineData",
        "fileData",
        "executableCode",
        "codeExecutionResult",
        "thought",
        "thoughtSignature",
        "functionCall",
        "functionResponse",
        "videoMetadata",
        "partMetadata",
        "mediaResolution",
        "toolCall",
        "toolResponse",
    }
)
_FILE_ID = re.compile(r"files/([^/?#]+)$")


class RequestError(Exception):
    """A request the emulator answers with an error body (never a server crash)."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        self.code = code
        self.message = message or DEFAULT_MESSAGES.get(code, "Error.")
        self.headers = headers or {}
        self.details = details
        super().__init__(f"{code} {self.message}")

    def body(self) -> dict[str, Any]:
        """The service's error body: ``{"error": {"code", "message", "status"}}``."""
        return error_body(self.code, self.message, self.details)


@dataclass(frozen=True)
class ErrorDialect:
    """How one API writes an error: as a whole body, and as an event mid-stream."""

    body: Callable[[RequestError], dict[str, Any]]
    event: Callable[[RequestError], tuple[str | None, dict[str, Any]]]
    """The event's name (None: an unnamed ``data:`` line) and its JSON."""


GENERATE_ERRORS = ErrorDialect(body=lambda exc: exc.body(), event=lambda exc: (None, exc.body()))
"""generateContent's: ``{"error": {"code": 404, "message", "status"}}`` in both places."""


def error_body(code: int, message: str, details: list[dict[str, Any]] | None = None) -> dict:
    """Build the service's error JSON for ``code``."""
    error: dict[str, Any] = {
        "code": code,
        "message": message,
        "status": STATUS_WORDS.get(code, "UNKNOWN"),
    }
    if details:
        error["details"] = details
    return {"error": error}


_NO_KEY = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API key or other form of API consumer identity to call this API."
)
_BAD_KEY = "API key not valid. Please pass a valid API key."


def key_refused(key: str) -> RequestError:
    """What the service answers a request without its key, whichever API it names.

    Google's front end checks the key before any API sees the request, so the body is
    the generic one on the Interactions API too: 403 ``PERMISSION_DENIED`` without a
    key, 400 ``INVALID_ARGUMENT`` (reason ``API_KEY_INVALID``) with a wrong one.
    """
    if not key:
        return RequestError(403, _NO_KEY)
    return RequestError(
        400,
        _BAD_KEY,
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": _BAD_KEY,
            },
        ],
    )


def file_not_found(file_id: str) -> RequestError:
    """What the service answers for a deleted, expired or never-uploaded file."""
    return RequestError(
        403,
        f"You do not have permission to access the File {file_id} or it may not exist.",
    )


def camel(key: str) -> str:
    """``mime_type`` -> ``mimeType``; camelCase keys pass unchanged."""
    head, *rest = key.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def camelize(value: Any) -> Any:
    """Every dict key at every level in camelCase (the SDK mixes both spellings)."""
    if isinstance(value, dict):
        return {camel(k): camelize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camelize(v) for v in value]
    return value


def decode_base64(data: Any, where: str) -> bytes:
    """Decode standard or URL-safe base64 (the SDK sends URL-safe, curl users standard)."""
    if not isinstance(data, str):
        raise RequestError(400, f"Invalid value at '{where}': expected a base64 string.")
    text = data.strip()
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise RequestError(400, f"Invalid value at '{where}': bad base64 ({exc}).") from None


def encode_base64(data: bytes) -> str:
    """Standard base64, as the service writes ``inlineData.data``."""
    return base64.b64encode(data).decode("ascii")


def signature(*pieces: str) -> str:
    """A deterministic, opaque signature (base64 of a hash of what it signs).

    Thought signatures let the service check that history sent back is its own; here
    they only have to be stable and opaque.
    """
    digest = hashlib.sha256("\x00".join(pieces).encode("utf-8")).digest()
    return base64.b64encode(digest).decode("ascii")


def parse_json(raw: bytes) -> Any:
    """Parse a request body, or explain in a 400 why it is not JSON."""
    if not raw.strip():
        raise RequestError(400, "Invalid JSON payload received. The request body is empty.")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RequestError(400, f"Invalid JSON payload received. Not UTF-8: {exc}.") from None
    except json.JSONDecodeError as exc:
        raise RequestError(400, f"Invalid JSON payload received. {exc}.") from None


@dataclass
class Attachment:
    """A file the user sent (inline or through the Files API), for the sandbox."""

    data: bytes
    mime_type: str
    display_name: str | None = None


@dataclass
class GenerateRequest:
    """What the model needs from a generateContent request."""

    model: str
    prompt: str
    """Text of the last user turn (text parts joined by newlines)."""
    prompt_parts: list[str]
    attachments: list[Attachment]
    prompt_tokens: int
    image_count: int = 0
    contents: list[dict[str, Any]] = field(default_factory=list)
    cached_tokens: int = 0
    """Of ``prompt_tokens``, those that came from the request's ``cachedContent``."""
    search: bool = False
    """Whether the request enabled the Google Search tool."""


FileResolver = Callable[[str], Attachment]
"""Looks up a ``fileData`` URI; raises :class:`RequestError` (403) when it is gone."""


def as_list(value: Any, where: str) -> list[Any]:
    """The REST API accepts a single object where a repeated field is expected."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return value
    raise RequestError(400, f"Invalid value at '{where}': expected a list or an object.")


def _check_part(part: Any, where: str) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise RequestError(400, f"Invalid value at '{where}': a part must be an object.")
    unknown = sorted(set(part) - _PART_FIELDS)
    if unknown:
        raise RequestError(
            400,
            f"Invalid JSON payload received. Unknown name \"{unknown[0]}\" at '{where}': "
            "Cannot find field.",
        )
    if not set(part) - {"thought", "thoughtSignature", "partMetadata", "mediaResolution"}:
        raise RequestError(400, f"Invalid value at '{where}': the part has no data field.")
    return part


def file_id_from_uri(uri: Any, where: str) -> str:
    """``https://.../v1beta/files/abc`` (or ``files/abc``) -> ``abc``."""
    match = _FILE_ID.search(uri) if isinstance(uri, str) else None
    if not match:
        raise RequestError(400, f"Invalid value at '{where}.fileUri': not a file URI: {uri!r}.")
    return match.group(1)


def request_body(raw: bytes) -> dict[str, Any]:
    """A request's JSON object, every key in camelCase; 400 if it is not an object."""
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise RequestError(400, "Invalid JSON payload received. The body must be an object.")
    return camelize(body)


def parse_generate_body(
    body: dict[str, Any],
    model: str,
    resolve_file: FileResolver,
    count_tokens: Callable[[str], int],
) -> GenerateRequest:
    """Validate a camelCase generateContent body (after a cache's contents were put in)."""
    if "contents" not in body:
        raise RequestError(400, "* GenerateContentRequest.contents: contents is not specified")
    contents = as_list(body["contents"], "contents")
    if not contents:
        raise RequestError(400, "* GenerateContentRequest.contents: contents is not specified")

    texts: list[str] = []
    attachments: list[Attachment] = []
    images = 0
    normalised: list[dict[str, Any]] = []
    system = body.get("systemInstruction")
    if isinstance(system, dict):
        for part in as_list(system.get("parts", []), "systemInstruction.parts"):
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])

    for i, content in enumerate(contents):
        where = f"contents[{i}]"
        if not isinstance(content, dict):
            raise RequestError(400, f"Invalid value at '{where}': a content must be an object.")
        role = content.get("role", "user")
        if role not in ("user", "model", "function", "tool"):
            raise RequestError(
                400, f"Please use a valid role: user, model. Got {role!r} at '{where}.role'."
            )
        parts = as_list(content.get("parts", []), f"{where}.parts")
        if not parts:
            raise RequestError(
                400, f"* GenerateContentRequest.{where}.parts: contents.parts must not be empty."
            )
        checked = [_check_part(p, f"{where}.parts[{j}]") for j, p in enumerate(parts)]
        for j, part in enumerate(checked):
            pwhere = f"{where}.parts[{j}]"
            if "text" in part:
                texts.append(str(part["text"]))
            for key in ("executableCode", "codeExecutionResult"):
                if isinstance(part.get(key), dict):
                    texts.append(str(part[key].get("code") or part[key].get("output") or ""))
            if "inlineData" in part:
                blob = part["inlineData"]
                if not isinstance(blob, dict) or "data" not in blob:
                    raise RequestError(400, f"Invalid value at '{pwhere}.inlineData': no data.")
                data = decode_base64(blob["data"], f"{pwhere}.inlineData.data")
                mime = str(blob.get("mimeType") or "application/octet-stream")
                if mime.startswith("image/"):
                    images += 1
                else:
                    texts.append(data.decode("utf-8", errors="replace"))
                if role == "user":
                    attachments.append(Attachment(data, mime, blob.get("displayName")))
            if "fileData" in part:
                ref = part["fileData"]
                if not isinstance(ref, dict):
                    raise RequestError(400, f"Invalid value at '{pwhere}.fileData'.")
                file_id_from_uri(ref.get("fileUri"), f"{pwhere}.fileData")
                attachment = resolve_file(ref["fileUri"])
                if ref.get("displayName"):
                    attachment.display_name = ref["displayName"]
                if attachment.mime_type.startswith("image/"):
                    images += 1
                else:
                    texts.append(attachment.data.decode("utf-8", errors="replace"))
                attachments.append(attachment)
        normalised.append({"role": role, "parts": checked})

    last_user = next((c for c in reversed(normalised) if c["role"] == "user"), None)
    prompt_parts = [
        str(p["text"]) for p in (last_user["parts"] if last_user else []) if "text" in p
    ]
    tokens = sum(count_tokens(t) for t in texts)
    return GenerateRequest(
        model=model,
        prompt="\n".join(prompt_parts),
        prompt_parts=prompt_parts,
        attachments=attachments,
        prompt_tokens=tokens,
        image_count=images,
        contents=normalised,
    )


def split_text(text: str, size: int = 40, max_pieces: int = 200) -> list[str]:
    """Cut ``text`` into stream-sized pieces at word boundaries, as the service streams.

    Pieces are about ``size`` characters (larger for huge texts, so a reply never
    becomes more than about ``max_pieces`` events); joining them gives ``text`` back.
    """
    if not text:
        return [text]
    size = max(size, -(-len(text) // max_pieces))
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            space = text.find(" ", end)
            end = len(text) if space == -1 or space - start > 2 * size else space + 1
        pieces.append(text[start:end])
        start = end
    return pieces
