"""Stored interactions: the conversation the Interactions API keeps at the service.

Each stored interaction belongs to the API key that created it (kept as a hash, never
the key).  ``previous_interaction_id`` names the interaction a new one continues: its
chain, oldest first, is the new one's context.  An interaction of another key, one that
expired (:meth:`InteractionStore.expire`) or was deleted, or one created with
``store: false`` is answered as unknown: 404 ``not_found``.

An answer past the per-request decode limit is served in hops: the service keeps the
rest of it under a ``continuation_token`` (:class:`PendingHops`), which the next hop
redeems; a token this key was not given is 400 ``invalid_request``.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from gemini_magic.emulator.store.keyed import KeyedStore
from gemini_magic.emulator.wire.codec import RequestError

MAX_CHAIN = 1000
"""Longest chain followed (a guard, far beyond any real conversation)."""


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def owner_of(api_key: str) -> str:
    """What an interaction records of its API key: a hash, so the key is never stored."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


@dataclass
class StoredInteraction:
    """One interaction: its input and output steps, status and usage."""

    interaction_id: str
    owner: str
    model: str
    input_steps: list[dict[str, Any]]
    previous_interaction_id: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    """The steps the model produced."""
    status: str = "in_progress"
    usage: dict[str, Any] = field(default_factory=dict)
    continuation_token: str | None = None
    """Set when the answer goes on in another hop (status ``requires_continuation``)."""
    created: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    updated: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def resource(self, include_input: bool = False) -> dict[str, Any]:
        """The ``Interaction`` JSON; ``get`` includes the input steps, ``create`` does not."""
        body: dict[str, Any] = {
            "id": self.interaction_id,
            "object": "interaction",
            "model": self.model,
            "status": self.status,
            "created": _timestamp(self.created),
            "updated": _timestamp(self.updated),
            "steps": (self.input_steps if include_input else []) + self.steps,
        }
        if self.usage:
            body["usage"] = self.usage
        if self.previous_interaction_id:
            body["previous_interaction_id"] = self.previous_interaction_id
        if self.continuation_token:
            body["continuation_token"] = self.continuation_token
        return body

    def summary(self) -> dict[str, Any]:
        """The interaction as a stream's lifecycle events carry it (no steps)."""
        body = self.resource()
        del body["steps"]
        return body

    def set_status(self, status: str) -> None:
        self.status = status
        self.updated = datetime.now(timezone.utc)


def not_found(interaction_id: str) -> RequestError:
    """What an unknown, expired, deleted or foreign interaction gets."""
    return RequestError(404, f"Interaction {interaction_id!r} was not found.")


@dataclass(frozen=True)
class PendingHops:
    """The rest of an answer past the decode limit, kept for the hops that follow.

    ``issuer`` is the interaction that handed out the token: a stored one must be
    named as the next hop's ``previous_interaction_id`` (and the input left out); with
    ``store: false`` nothing is kept, so the hop sends the input again.
    """

    owner: str
    issuer: str
    stored: bool
    model: str
    hops: tuple[tuple[dict[str, Any], ...], ...]
    """The parts each remaining hop answers with, in order."""
    context: Any = None
    """What the reply was made for (the hops bill its input again)."""


class InteractionStore(KeyedStore[StoredInteraction]):
    """The stored interactions, safe to use from the server's threads."""

    def __init__(self, mark: str) -> None:
        super().__init__()
        self._mark = mark
        self._pending: dict[str, PendingHops] = {}

    def issue(self, pending: PendingHops) -> str:
        """A fresh ``continuation_token`` for the rest of an answer."""
        token = f"ct_{uuid.uuid4().hex}"
        with self._lock:
            self._pending[token] = pending
        return token

    def redeem(self, token: str, owner: str) -> PendingHops:
        """What a token continues; 400 when this key was not given it.

        A token stays valid (a hop whose stream dropped may be asked for again).
        """
        with self._lock:
            found = self._pending.get(token)
        if found is None or found.owner != owner:
            raise RequestError(400, f"Invalid continuation_token {token!r}.")
        return found

    def new_id(self) -> str:
        """A fresh id that carries the emulator's mark (``v1_<mark>_<hex>``)."""
        return f"v1_{self._mark}_{uuid.uuid4().hex[:20]}"

    def add(self, interaction: StoredInteraction) -> None:
        with self._lock:
            self._items[interaction.interaction_id] = interaction

    def get(self, interaction_id: str, owner: str) -> StoredInteraction:
        """The interaction if this key may see it, else 404."""
        with self._lock:
            found = self._items.get(interaction_id)
        if found is None or found.owner != owner:
            raise not_found(interaction_id)
        return found

    def chain(self, interaction_id: str, owner: str) -> list[StoredInteraction]:
        """The interaction and those it continues, oldest first; 404 if any is gone."""
        chain: list[StoredInteraction] = []
        current: str | None = interaction_id
        while current is not None and len(chain) < MAX_CHAIN:
            found = self.get(current, owner)
            chain.append(found)
            current = found.previous_interaction_id
        return chain[::-1]

    def delete(self, interaction_id: str, owner: str) -> None:
        self.get(interaction_id, owner)
        with self._lock:
            self._items.pop(interaction_id, None)

    def list(self) -> list[StoredInteraction]:
        """Every stored interaction, oldest first (for tests)."""
        with self._lock:
            return list(self._items.values())
