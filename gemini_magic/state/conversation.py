"""The conversations of one notebook: turns, merging of streamed parts, persistence.

We keep the history ourselves instead of using the SDK's chats: its streaming chat stores
every chunk as its own turn and silently drops a turn whose last chunk carries no parts
(see shared/notes/sdk-facts.md).  Here a turn enters the history only after its stream
ended well, as one user ``Content`` and one merged model ``Content``.

A conversation is a list of :class:`Exchange` objects.  Each remembers the notebook cell
it came from, so re-running a cell replaces its exchange instead of adding a duplicate.

The JSON form (``save`` / ``load`` / the autosave file) round-trips exactly:
``Content.model_dump(mode="json", exclude_none=True)`` and ``Content.model_validate``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gemini_magic.api.sdk import types
from gemini_magic.errors import HistoryError, UsageError
from gemini_magic.settings import DEFAULT_CONVERSATION as DEFAULT_NAME
from gemini_magic.text import newer_enums

FORMAT = "gemini-magic-conversations"
VERSION = 1


@dataclass
class Exchange:
    """One completed turn: what the user sent and what the model answered."""

    user: types.Content
    model: types.Content
    prompt: str
    cell_id: str | None = None
    model_name: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    #: The API the turn went through, and on Interactions the id of its interaction
    #: (the next turn names it as ``previous_interaction_id``).
    api: str = "generate_content"
    interaction_id: str | None = None
    #: The files the turn attached that stand for a live object, as binding records
    #: (``gemini_magic.answer.rebind.binding_record``): ``%gemini run`` on any later
    #: answer binds them, as the sandbox keeps a conversation's files.
    attached: list[dict[str, Any]] = field(default_factory=list)
    #: Stable identity, so two kernels writing one history file can merge their turns.
    id: str = field(default_factory=lambda: _new_id())

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "api": self.api,
            "interaction_id": self.interaction_id,
            "attached": self.attached,
            "cell_id": self.cell_id,
            "prompt": self.prompt,
            "model_name": self.model_name,
            "usage": self.usage,
            "created": self.created,
            "user": self.user.model_dump(mode="json", exclude_none=True),
            "model": self.model.model_dump(mode="json", exclude_none=True),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Exchange:
        with newer_enums():  # a bash step's language
            user = types.Content.model_validate(data["user"])
            model = types.Content.model_validate(data["model"])
        return cls(
            user=user,
            model=model,
            prompt=str(data.get("prompt", "")),
            cell_id=_optional_text(data, "cell_id"),
            model_name=str(data.get("model_name", "")),
            usage={str(k): int(v) for k, v in (data.get("usage") or {}).items()},
            created=float(data.get("created", 0.0)),
            api=str(data.get("api") or "generate_content"),
            interaction_id=_optional_text(data, "interaction_id"),
            attached=[dict(item) for item in data.get("attached") or [] if isinstance(item, dict)],
            id=str(data.get("id") or _legacy_id(data)),
        )


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    """A field that is text or absent; anything else is a damaged file (ValueError)."""
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} is {type(value).__name__}, not text")
    return value


def _media_stand_in(part: types.Part) -> types.Part:
    """A short text standing in for an inline image or blob the model produced."""
    blob = part.inline_data
    size = len(blob.data or b"") if blob is not None else 0
    mime = (blob.mime_type if blob is not None else None) or "application/octet-stream"
    return types.Part(
        text=f"[{mime} output of {size:,} bytes shown to the user; not re-sent]",
        thought_signature=part.thought_signature,
    )


def without_media(content: types.Content) -> types.Content:
    """``content`` with the inline media the model produced replaced by a short text.

    They cost tokens with every later turn, and the model has seen them.
    """
    parts = content.parts or []
    if not any(p.inline_data is not None for p in parts):
        return content
    return types.Content(
        role=content.role,
        parts=[_media_stand_in(p) if p.inline_data is not None else p for p in parts],
    )


def replace_files(
    contents: list[types.Content], replacements: dict[str, types.Part]
) -> list[types.Content]:
    """``contents`` with every ``fileData`` part named in ``replacements`` swapped."""
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


def _new_id() -> str:
    import uuid  # here, not at the top: %load_ext imports this module and stays light

    return uuid.uuid4().hex


def _legacy_id(data: dict[str, Any]) -> str:
    """An id for an exchange saved before exchanges had one: the same every load."""
    import uuid

    key = json.dumps([data.get("created"), data.get("prompt"), data.get("cell_id")])
    return uuid.uuid5(uuid.NAMESPACE_OID, key).hex


@dataclass
class Conversation:
    """A named list of exchanges."""

    name: str
    exchanges: list[Exchange] = field(default_factory=list)

    def _position(self, cell_id: str | None) -> int | None:
        if cell_id is None:
            return None
        for index, exchange in enumerate(self.exchanges):
            if exchange.cell_id == cell_id:
                return index
        return None

    def context_for(self, cell_id: str | None, *, resend_media: bool) -> list[types.Content]:
        """The history to send before a new prompt from ``cell_id``.

        A re-run cell gets the context it had the first time (the exchanges before its
        own), so re-running does not feed the model its previous answer to the same
        question.  Inline media the model produced are replaced by a short text unless
        ``resend_media``: they cost tokens every turn and the model has seen them.
        """
        contents: list[types.Content] = []
        for exchange in self.before(cell_id):
            contents.append(exchange.user)
            if resend_media:
                contents.append(exchange.model)
            else:
                contents.append(without_media(exchange.model))
        return contents

    def before(self, cell_id: str | None) -> list[Exchange]:
        """The exchanges a new prompt from ``cell_id`` follows: all of them, or for a
        re-run cell those before its own turn (re-running branches from there)."""
        position = self._position(cell_id)
        return self.exchanges if position is None else self.exchanges[:position]

    def record(self, exchange: Exchange) -> None:
        """Add ``exchange``; a re-run cell's replaces its own and the turns after it.

        The re-run branched the conversation at that cell: the later turns answered the
        old branch (and on Interactions chain from it), so they leave the conversation.
        """
        position = self._position(exchange.cell_id)
        if position is None:
            self.exchanges.append(exchange)
        else:
            self.exchanges[position:] = [exchange]

    def replace_files(self, replacements: dict[str, types.Part]) -> None:
        """Swap ``fileData`` parts whose upload expired (see ``UploadCache.repair``)."""
        for exchange in self.exchanges:
            exchange.user, exchange.model = replace_files(
                [exchange.user, exchange.model], replacements
            )


class ConversationStore:
    """Every conversation of one notebook, and which one a plain ``%%gemini`` continues."""

    def __init__(self) -> None:
        self.conversations: dict[str, Conversation] = {DEFAULT_NAME: Conversation(DEFAULT_NAME)}

    def get(self, name: str = DEFAULT_NAME) -> Conversation:
        """The conversation called ``name``, created empty on first use."""
        if not name or not name.strip():
            raise UsageError("A conversation name cannot be empty.")
        if name not in self.conversations:
            self.conversations[name] = Conversation(name)
        return self.conversations[name]

    def reset(self, name: str | None = None) -> None:
        """Forget one conversation, or all of them when ``name`` is None."""
        if name is None:
            self.conversations = {DEFAULT_NAME: Conversation(DEFAULT_NAME)}
        elif name in self.conversations:
            self.conversations[name] = Conversation(name)
        else:
            raise UsageError(
                f"There is no conversation named {name!r}.",
                hint=f"Conversations: {', '.join(sorted(self.conversations))}.",
            )

    def __iter__(self) -> Iterator[Conversation]:
        return iter(self.conversations.values())

    def is_empty(self) -> bool:
        return not any(c.exchanges for c in self)

    # --- JSON ---------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "conversations": {
                name: [e.to_json() for e in conv.exchanges]
                for name, conv in self.conversations.items()
            },
        }

    @classmethod
    def from_json(cls, data: Any, *, source: str = "the history") -> ConversationStore:
        """Parse what :meth:`to_json` wrote; anything else is a :class:`HistoryError`."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise HistoryError(f"{source} is not a gemini-magic conversation file.")
        if data.get("version") != VERSION:
            raise HistoryError(
                f"{source} has format version {data.get('version')!r}; "
                f"this gemini-magic reads version {VERSION}."
            )
        store = cls()
        try:
            for name, exchanges in data["conversations"].items():
                store.conversations[name] = Conversation(
                    name, [Exchange.from_json(e) for e in exchanges]
                )
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise HistoryError(f"{source} is damaged: {exc}") from None
        return store

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the store atomically: a temporary file beside ``path``, then a rename.

        A crash mid-write leaves the previous file intact.
        """
        import tempfile

        target = Path(path).expanduser()
        text = json.dumps(self.to_json(), ensure_ascii=False, indent=1)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as exc:
            raise _unsaved(target, exc) from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise _unsaved(target, exc) from None
            raise
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ConversationStore:
        source = Path(path).expanduser()
        try:
            text = source.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise HistoryError(f"No conversation file at {source}.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise HistoryError(f"Cannot read {source}: {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise HistoryError(
                f"{source} is not valid JSON ({exc.msg}, line {exc.lineno})."
            ) from None
        except RecursionError:
            raise HistoryError(f"{source} is nested too deeply to be a history file.") from None
        return cls.from_json(data, source=str(source))


def _unsaved(target: Path, exc: OSError) -> HistoryError:
    return HistoryError(
        f"The conversation could not be saved to {target}: {exc.strerror or exc}.",
        hint="The conversation is kept in this session. Choose a writable place with "
        "%config GeminiMagics.history_file = 'PATH', or '' to stop saving.",
    )
