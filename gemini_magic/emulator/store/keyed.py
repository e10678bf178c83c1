"""What the Files, cache and interaction stores share: items by id behind one lock."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

Item = TypeVar("Item")


class KeyedStore(Generic[Item]):
    """Items by id, safe to use from the server's threads.

    ``prefix`` is how the service names an item (``files/``, ``cachedContents/``):
    :meth:`expire` takes and returns names with it.
    """

    prefix = ""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Item] = {}

    def expire(self, name: str | None = None) -> list[str]:
        """Make one item (or every item) expire now; return the names expired."""
        with self._lock:
            ids = [name.removeprefix(self.prefix)] if name else list(self._items)
            gone = [i for i in ids if self._items.pop(i, None) is not None]
        return [f"{self.prefix}{i}" for i in gone]

    def clear(self) -> None:
        """Forget every item."""
        with self._lock:
            self._items.clear()
