"""Thought signatures: the opaque strings the Interactions API sends, kept as Part bytes.

A ``types.Part`` carries its ``thought_signature`` as bytes (generateContent sends them
base64-encoded, and history files keep them so), while the Interactions SDK types a
step's ``signature`` as an opaque string.  The two functions here convert between them
so that every signature goes back to the service exactly as it came, whatever its text.
"""

from __future__ import annotations

import base64

__all__ = ["signature_bytes", "signature_text"]

#: Leads the bytes of a signature kept as its text: one that is not canonical padded
#: standard base64, so decoding it would fail or lose characters.
_OPAQUE_SIGNATURE = b"gemini-magic:opaque-signature:"


def signature_bytes(value: str | None) -> bytes | None:
    """A step's signature as the bytes a Part carries, from which it goes back unchanged.

    The SDK types a signature as an opaque string.  Canonical standard base64 (what the
    service sends today) is kept decoded, as generateContent keeps it and as history
    files hold it; any other text (URL-safe, unpadded, not base64 at all) is kept as
    its own UTF-8 after a marker, since decoding would fail or alter it.
    """
    if not value:
        return None
    try:
        decoded = base64.b64decode(value, validate=True)
    except ValueError:  # binascii.Error, or text that is not ASCII
        decoded = None
    if decoded is not None and base64.b64encode(decoded).decode("ascii") == value:
        return decoded
    return _OPAQUE_SIGNATURE + value.encode("utf-8", errors="surrogatepass")


def signature_text(value: bytes | None) -> str | None:
    """The signature text :func:`signature_bytes` read, exactly as the service sent it."""
    if not value:
        return None
    if value.startswith(_OPAQUE_SIGNATURE):
        return value[len(_OPAQUE_SIGNATURE) :].decode("utf-8", errors="surrogatepass")
    return base64.b64encode(value).decode("ascii")
