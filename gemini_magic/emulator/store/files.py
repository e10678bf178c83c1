"""The Files API's storage: resumable upload sessions and uploaded files.

Files live in memory for the emulator's lifetime.  An expired or deleted file is
answered as the service answers it: 403 PERMISSION_DENIED, "You do not have permission
to access the File <id> or it may not exist."
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from gemini_magic.emulator.store.keyed import KeyedStore
from gemini_magic.emulator.wire.codec import Attachment, RequestError, file_not_found

LIFETIME = timedelta(hours=48)


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class UploadSession:
    """An upload that was started and not yet finalised."""

    file_id: str
    display_name: str | None
    mime_type: str
    data: bytearray = field(default_factory=bytearray)


@dataclass
class StoredFile:
    """An uploaded file."""

    file_id: str
    display_name: str | None
    mime_type: str
    data: bytes
    created: datetime

    def resource(self, base_url: str) -> dict[str, Any]:
        """The service's ``File`` JSON."""
        resource: dict[str, Any] = {
            "name": f"files/{self.file_id}",
            "mimeType": self.mime_type,
            "sizeBytes": str(len(self.data)),
            "createTime": _timestamp(self.created),
            "updateTime": _timestamp(self.created),
            "expirationTime": _timestamp(self.created + LIFETIME),
            "sha256Hash": hashlib.sha256(self.data).hexdigest(),
            "uri": f"{base_url}/v1beta/files/{self.file_id}",
            "state": "ACTIVE",
            "source": "UPLOADED",
        }
        if self.display_name:
            resource["displayName"] = self.display_name
        return resource


class FileStore(KeyedStore[StoredFile]):
    """Upload sessions and files, safe to use from the server's threads."""

    prefix = "files/"

    def __init__(self) -> None:
        super().__init__()
        self._sessions: dict[str, UploadSession] = {}
        self._counter = 0

    def start_upload(self, meta: dict[str, Any], mime_type: str | None) -> str:
        """Open a session from the start request's ``file`` metadata; return its id."""
        with self._lock:
            self._counter += 1
            name = str(meta.get("name") or "")
            seed = f"{self._counter}:{name}:{meta.get('displayName')}".encode()
            file_id = name.removeprefix("files/") or hashlib.sha256(seed).hexdigest()[:12]
            if file_id in self._items:
                raise RequestError(409, f"File files/{file_id} already exists.")
            # The upload-data step carries no API key: its URL is the secret, as on the
            # service, so the session id must not be guessable.
            session_id = secrets.token_urlsafe(32)
            self._sessions[session_id] = UploadSession(
                file_id,
                meta.get("displayName"),
                str(meta.get("mimeType") or mime_type or "application/octet-stream"),
            )
            return session_id

    def append(
        self, session_id: str, offset: int, data: bytes, finalize: bool
    ) -> StoredFile | None:
        """Add a chunk; on finalize the file becomes ACTIVE and is returned."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                raise RequestError(404, f"No upload session {session_id!r} (expired or unknown).")
            if offset != len(session.data):
                raise RequestError(
                    400,
                    f"Upload offset {offset} does not match {len(session.data)} bytes received.",
                )
            session.data.extend(data)
            if not finalize:
                return None
            del self._sessions[session_id]
            stored = StoredFile(
                session.file_id,
                session.display_name,
                session.mime_type,
                bytes(session.data),
                datetime.now(timezone.utc),
            )
            self._items[stored.file_id] = stored
            return stored

    def get(self, file_id: str) -> StoredFile:
        """The file, or the service's 403 when it is gone."""
        with self._lock:
            stored = self._items.get(file_id)
        if stored is None:
            raise file_not_found(file_id)
        return stored

    def attachment(self, file_id: str) -> Attachment:
        """The file as a request attachment (for ``fileData`` references)."""
        stored = self.get(file_id)
        return Attachment(stored.data, stored.mime_type, stored.display_name)

    def delete(self, file_id: str) -> None:
        """Delete the file (403 if it is already gone)."""
        with self._lock:
            if self._items.pop(file_id, None) is None:
                raise file_not_found(file_id)

    def list(self) -> list[StoredFile]:
        """Every live file, oldest first."""
        with self._lock:
            return list(self._items.values())

    def clear(self) -> None:
        """Forget every file and session."""
        super().clear()
        with self._lock:
            self._sessions.clear()
