"""The Files-API upload cache: a large frame goes over the wire once per content.

Inline data is re-sent with every later turn (the history carries it), so a 1 MB frame
over ten turns costs 10 MB and its tokens ten times.  Above a size threshold the CSV is
uploaded once through the Files API and the conversation refers to it by URI.  Uploads
are keyed by the attachment's content hash: the same unchanged frame attached again
costs nothing, a changed one is uploaded anew.

Uploaded files expire (48 h on the service).  When a request fails because a referenced
file is gone, :meth:`UploadCache.repair` re-uploads what it still holds and the request is
sent again.  Vertex AI has no Files API: there everything stays inline.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from google import genai
    from google.genai import types

    from gemini_magic.attachments import Attachment


@dataclass
class _Upload:
    name: str
    uri: str
    attachment: Attachment


class UploadCache:
    """Maps attachment digests to uploaded files of one client."""

    def __init__(self, client: genai.Client, *, threshold: int, enabled: bool) -> None:
        self._client = client
        self.threshold = threshold
        self.enabled = enabled
        #: Keyed by content and file name: the sandbox sees an upload under the name it
        #: was uploaded with, so the same frame attached as ``{a}`` and ``{b}`` is two files.
        self._by_content: dict[tuple[str, str], _Upload] = {}
        self._by_uri: dict[str, _Upload] = {}
        #: Bytes sent through the Files API by this cache: for the usage display and tests.
        self.uploaded_bytes = 0

    def part_for(self, attachment: Attachment) -> types.Part:
        """The part that carries ``attachment``: inline when small, else an uploaded file."""
        from google.genai import types

        if not self.enabled or len(attachment.data) < self.threshold:
            return types.Part(
                inline_data=types.Blob(
                    data=attachment.data,
                    mime_type=attachment.mime_type,
                    display_name=attachment.filename,
                )
            )
        upload = self._by_content.get(_key(attachment)) or self._upload(attachment)
        return types.Part(
            file_data=types.FileData(file_uri=upload.uri, mime_type=attachment.mime_type)
        )

    def size_of(self, uri: str) -> int | None:
        """The size of a file this cache uploaded (None for any other URI)."""
        upload = self._by_uri.get(uri)
        return len(upload.attachment.data) if upload is not None else None

    def _upload(self, attachment: Attachment) -> _Upload:
        from google.genai import types

        file = self._client.files.upload(
            file=io.BytesIO(attachment.data),
            config=types.UploadFileConfig(
                mime_type=attachment.mime_type, display_name=attachment.filename
            ),
        )
        upload = _Upload(name=file.name or "", uri=file.uri or "", attachment=attachment)
        self._by_content[_key(attachment)] = upload
        self._by_uri[upload.uri] = upload
        self.uploaded_bytes += len(attachment.data)
        return upload

    def repair(self, contents: list[types.Content]) -> dict[str, types.Part] | None:
        """Find referenced files that are gone and give a replacement part for each.

        Returns ``{old_uri: new_part}`` (a fresh upload when the cache still holds the
        data, else a short text saying the file expired), or None when every referenced
        file still exists, i.e. the failure had another cause.
        """
        from google.genai import errors, types

        replacements: dict[str, types.Part] = {}
        for content in contents:
            for part in content.parts or []:
                uri = part.file_data.file_uri if part.file_data is not None else None
                if not uri or uri in replacements:
                    continue
                known = self._by_uri.get(uri)
                name = known.name if known else "files/" + uri.rstrip("/").rsplit("/", 1)[-1]
                try:
                    self._client.files.get(name=name)
                    continue
                except errors.APIError as exc:
                    if exc.code not in (403, 404):
                        raise
                if known is None:
                    replacements[uri] = types.Part(
                        text=f"[an attached file ({uri}) from an earlier turn has expired]"
                    )
                    continue
                del self._by_content[_key(known.attachment)]
                del self._by_uri[uri]
                replacements[uri] = self.part_for(known.attachment)
        return replacements or None


def _key(attachment: Attachment) -> tuple[str, str]:
    return attachment.digest, attachment.filename


def replace_files(
    contents: list[types.Content], replacements: dict[str, types.Part]
) -> list[types.Content]:
    """``contents`` with every ``fileData`` part named in ``replacements`` swapped."""
    from google.genai import types

    result = []
    for content in contents:
        parts = content.parts or []
        if any(p.file_data is not None and p.file_data.file_uri in replacements for p in parts):
            parts = [
                replacements.get(p.file_data.file_uri, p) if p.file_data is not None else p
                for p in parts
            ]
            content = types.Content(role=content.role, parts=parts)
        result.append(content)
    return result
