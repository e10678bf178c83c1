"""The Files-API upload cache: a large attachment goes over the wire once per content.

Inline data is re-sent with every later turn of a generateContent conversation (the
history carries it), so a 1 MB frame over ten turns costs 10 MB and its tokens ten times.
Above a size threshold the data is uploaded once through the Files API and the
conversation refers to it by URI, on either API.  Uploads are keyed by the attachment's
content hash and file name: the same unchanged frame attached again costs nothing, a
changed one is uploaded anew.

Uploaded files expire (48 h on the service).  When a request fails because a referenced
file is gone, :meth:`UploadCache.renew` uploads again what it still holds and the
request is sent again.  Vertex AI has no Files API: there everything stays inline.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

from gemini_magic.api.errors import GONE_STATUSES, service_call
from gemini_magic.api.parts import attachment_part
from gemini_magic.api.sdk import genai, types
from gemini_magic.errors import GeminiAPIError
from gemini_magic.inputs.attachment import Attachment


@dataclass
class _Upload:
    name: str
    uri: str
    attachment: Attachment


def file_name_of(uri: str) -> str:
    """The Files-API resource name (``files/abc``) of a file's URI."""
    return "files/" + uri.rstrip("/").rsplit("/", 1)[-1]


class UploadCache:
    """Maps attachment digests to uploaded files of one client."""

    def __init__(self, client: genai.Client, *, enabled: bool, timeout_s: float) -> None:
        self._client = client
        self.enabled = enabled
        self._timeout_s = timeout_s
        #: Keyed by content and file name: the sandbox sees an upload under the name it
        #: was uploaded with, so the same frame attached as ``{a}`` and ``{b}`` is two files.
        self._by_content: dict[tuple[str, str], _Upload] = {}
        self._by_uri: dict[str, _Upload] = {}

    def uri_for(self, attachment: Attachment, threshold: int) -> str | None:
        """The URI of ``attachment`` uploaded (once), or None when it goes inline."""
        if not self.enabled or len(attachment.data) < threshold:
            return None
        upload = self._by_content.get(_key(attachment)) or self._upload(attachment)
        return upload.uri

    def size_of(self, uri: str) -> int | None:
        """The size of a file this cache uploaded (None for any other URI)."""
        upload = self._by_uri.get(uri)
        return len(upload.attachment.data) if upload is not None else None

    def renew(self, uris: Iterable[str]) -> dict[str, Attachment | None] | None:
        """Find the files among ``uris`` that are gone and forget their uploads.

        Returns ``{uri: attachment}`` for each gone file: the attachment this cache
        still holds (the caller attaches it again), or None when the file was not ours
        (an earlier session's), or None as a whole when every file still exists, i.e.
        the failure had another cause.
        """
        gone: dict[str, Attachment | None] = {}
        for uri in dict.fromkeys(uris):
            known = self._by_uri.get(uri)
            name = known.name if known else file_name_of(uri)
            try:
                with service_call(self._timeout_s):
                    self._client.files.get(name=name)
                continue
            except GeminiAPIError as exc:
                if exc.code not in GONE_STATUSES:
                    raise
            if known is not None:
                del self._by_content[_key(known.attachment)]
                del self._by_uri[uri]
            gone[uri] = known.attachment if known else None
        return gone or None

    def renewed_parts(self, contents: list[types.Content]) -> dict[str, types.Part] | None:
        """For the uploaded files ``contents`` name that are gone, the parts to send
        instead: the same data uploaded again, or a note where it was not ours."""

        uris = [p.file_data.file_uri for c in contents for p in c.parts or [] if p.file_data]
        gone = self.renew(uri for uri in uris if uri) if uris else None
        if gone is None:
            return None
        return {
            uri: attachment_part(attachment, self.uri_for(attachment, threshold=0))
            if attachment is not None
            else types.Part(text=f"[an attached file ({uri}) from an earlier turn has expired]")
            for uri, attachment in gone.items()
        }

    def _upload(self, attachment: Attachment) -> _Upload:
        with service_call(self._timeout_s):
            file = self._client.files.upload(
                file=io.BytesIO(attachment.data),
                config=types.UploadFileConfig(
                    mime_type=attachment.mime_type, display_name=attachment.filename
                ),
            )
        upload = _Upload(name=file.name or "", uri=file.uri or "", attachment=attachment)
        self._by_content[_key(attachment)] = upload
        self._by_uri[upload.uri] = upload
        return upload


def _key(attachment: Attachment) -> tuple[str, str]:
    return attachment.digest, attachment.filename
