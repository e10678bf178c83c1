"""Explicit context caches (``cachedContents``): stored prefixes of a conversation.

A cache holds contents, a system instruction and tools for one model, for a time to
live.  A generateContent request that names it gets the cached contents put before its
own, and its usage reports the cached part as ``cachedContentTokenCount`` (inside
``promptTokenCount``), as on the service.

The service tokenises a cache's files when the cache is created, so a file deleted
afterwards does not break the cache; here the files' data are kept with the cache for
the same reason.  An expired, deleted or unknown cache is answered as the service
answers it: 403 PERMISSION_DENIED, "CachedContent not found (or permission denied)".
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from gemini_magic.emulator.store.keyed import KeyedStore
from gemini_magic.emulator.wire.codec import Attachment, RequestError

DEFAULT_TTL = timedelta(hours=1)
"""The service's time to live when a request sets neither ``ttl`` nor ``expireTime``."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")

#: Keys a generateContent request must not set together with ``cachedContent``.
CACHED_ONLY = ("systemInstruction", "tools", "toolConfig")

NOT_ALLOWED_WITH_CACHE = (
    "CachedContent can not be used with GenerateContent request setting system_instruction, "
    "tools or tool_config.\n\nProposed fix: move those values to CachedContent from "
    "GenerateContent request."
)


def minimum_tokens(model: str) -> int:
    """The smallest cache the service accepts for ``model`` (4,096 for Pro, else 1,024)."""
    return 4096 if "pro" in model.lower() else 1024


def cache_not_found() -> RequestError:
    """What the service answers for an expired, deleted or never-created cache."""
    return RequestError(403, "CachedContent not found (or permission denied)")


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def expiry(body: dict[str, Any], now: datetime) -> datetime:
    """When a cache expires, from the request's ``ttl`` ("300s") or ``expireTime``."""
    if body.get("ttl") is not None:
        match = _DURATION.match(str(body["ttl"]))
        if not match:
            raise RequestError(
                400, f"Invalid value at 'cached_content.ttl' ({body['ttl']!r}): use e.g. '3600s'."
            )
        return now + timedelta(seconds=float(match.group(1)))
    if body.get("expireTime") is not None:
        text = str(body["expireTime"]).replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise RequestError(
                400, f"Invalid value at 'cached_content.expire_time' ({body['expireTime']!r})."
            ) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return now + DEFAULT_TTL


@dataclass
class StoredCache:
    """One cache: what it holds, its token count and its lifetime."""

    cache_id: str
    model: str
    """``models/<name>``, as the service names it."""
    display_name: str | None
    held: dict[str, Any]
    """``contents``, ``systemInstruction``, ``tools``, ``toolConfig`` (camelCase)."""
    tokens: int
    files: dict[str, Attachment] = field(default_factory=dict)
    """The data of the files the contents referenced, as they were at creation."""
    created: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    updated: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    expires: datetime = field(default_factory=lambda: datetime.now(timezone.utc) + DEFAULT_TTL)

    @property
    def name(self) -> str:
        return f"cachedContents/{self.cache_id}"

    def resource(self) -> dict[str, Any]:
        """The service's ``CachedContent`` JSON (the contents are never returned)."""
        resource: dict[str, Any] = {
            "name": self.name,
            "model": self.model,
            "createTime": _timestamp(self.created),
            "updateTime": _timestamp(self.updated),
            "expireTime": _timestamp(self.expires),
            "usageMetadata": {"totalTokenCount": self.tokens},
        }
        if self.display_name:
            resource["displayName"] = self.display_name
        return resource


class CacheStore(KeyedStore[StoredCache]):
    """The live caches, safe to use from the server's threads."""

    prefix = "cachedContents/"

    def add(self, cache: StoredCache) -> StoredCache:
        with self._lock:
            self._items[cache.cache_id] = cache
        return cache

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex[:16]

    def get(self, cache_id: str) -> StoredCache:
        """The cache, or the service's 403 when it expired, was deleted or never was."""
        now = datetime.now(timezone.utc)
        with self._lock:
            cache = self._items.get(cache_id)
            if cache is not None and cache.expires <= now:
                del self._items[cache_id]
                cache = None
        if cache is None:
            raise cache_not_found()
        return cache

    def update(self, cache_id: str, body: dict[str, Any]) -> StoredCache:
        """Change the expiry (``ttl`` or ``expireTime``, the only mutable fields)."""
        cache = self.get(cache_id)
        now = datetime.now(timezone.utc)
        with self._lock:
            cache.expires = expiry(body, now)
            cache.updated = now
        return cache

    def delete(self, cache_id: str) -> None:
        self.get(cache_id)
        with self._lock:
            self._items.pop(cache_id, None)

    def list(self) -> list[StoredCache]:
        """Every live cache, oldest first."""
        now = datetime.now(timezone.utc)
        with self._lock:
            return [c for c in self._items.values() if c.expires > now]
