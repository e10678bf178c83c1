"""What lives as long as the kernel: the client, the emulator, the conversations.

A :class:`GeminiSession` owns the long-lived pieces a turn uses — the ``google-genai``
client (made on first use, so ``%load_ext`` stays light), the offline emulator when one
was started, the conversation store and its autosave file, the Files-API upload cache
and the context caches — and the backend of each API built over them.  It is given
values (:class:`~gemini_magic.settings.Connection`, a ``history_file`` setting), never
the Magics object, so the magic and the Gemini kernel share one session without a
circle of imports.

The emulator is not imported here: it is started by the ``serve`` function the magic
hands in (which imports it the first time offline mode is used), so ``%load_ext``
does not pay for a web server it may never run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from gemini_magic.api.backend import Backend
from gemini_magic.api.caching import ContextCache, ContextCaches
from gemini_magic.api.client import make_client, uses_vertex
from gemini_magic.api.content import GenerateContentBackend
from gemini_magic.api.interactions import InteractionsBackend
from gemini_magic.api.sdk import genai
from gemini_magic.api.uploads import UploadCache
from gemini_magic.settings import Connection
from gemini_magic.state.conversation import ConversationStore
from gemini_magic.state.history import HistoryFile
from gemini_magic.state.jobs import Jobs


class OfflineServer(Protocol):
    """The bundled offline emulator, as the session uses it."""

    @property
    def url(self) -> str: ...

    @property
    def key(self) -> str:
        """The API key it answers (its own, random: it runs code)."""
        ...

    def stop(self) -> None: ...


#: Starts the offline emulator with a replies file ("": its built-in replies).
Serve = Callable[[str], OfflineServer]


class GeminiSession:
    """Client, emulator, conversations and uploads of one IPython session."""

    def __init__(self, connection: Connection, history_file: str, *, serve: Serve) -> None:
        self.connection = connection
        self._serve = serve
        self.store = ConversationStore()
        self.history = HistoryFile(history_file)
        self.resumed_note: str | None = None
        self.usage_totals: dict[str, int] = {}
        #: Why the background warm-up stopped (None: it ran, or runs), for ``%gemini``.
        self.warmup_failure: str | None = None
        self.emulator: OfflineServer | None = None
        self._client: genai.Client | None = None
        self._uploads: UploadCache | None = None
        self._caches: ContextCaches | None = None
        # The warm-up thread may build the client while a prompt asks for it.
        self._client_lock = threading.RLock()
        #: Background turns (``%%gemini --background``) and their threads.
        self.jobs = Jobs()
        # Background turns save from their threads: one save at a time.
        self._save_lock = threading.Lock()
        self.resume()

    # --- the client and what is made with it ---------------------------------------

    def client(self) -> genai.Client:
        """The session's client, created on first use (this imports the SDK)."""
        with self._client_lock:
            if self._client is None:
                if not self.connection.offline:
                    self._client = make_client(timeout_s=self.connection.timeout_s)
                else:
                    base_url = self.start_emulator()
                    assert self.emulator is not None  # started just above
                    # The emulator runs code, so it answers only its own key.
                    self._client = make_client(
                        timeout_s=self.connection.timeout_s,
                        base_url=base_url,
                        offline_key=self.emulator.key,
                    )
            return self._client

    def uploads(self) -> UploadCache:
        """The Files-API upload cache of the client (off on Vertex AI, which has none)."""
        if self._uploads is None:
            self._uploads = UploadCache(
                self.client(),
                enabled=not uses_vertex() or self.connection.offline,
                timeout_s=self.connection.timeout_s,
            )
        return self._uploads

    def context_caches(self) -> ContextCaches:
        """The conversations' context caches, made through the session's client."""
        if self._caches is None:
            self._caches = ContextCaches(
                partial(
                    ContextCache,
                    self.client(),
                    timeout_s=self.connection.timeout_s,
                    known_size=self.uploads().size_of,
                )
            )
        return self._caches

    def backend(self, api: str, *, store: bool = True) -> Backend[Any]:
        """The backend of ``api`` over this session's client and caches.

        ``store``: whether the Interactions API keeps the conversation at Google.
        """
        if api == "interactions":
            return InteractionsBackend(self.client(), uploads=self.uploads(), store=store)
        return GenerateContentBackend(
            self.client(), uploads=self.uploads(), caches=self.context_caches(), store=self.store
        )

    def reconnect(self, connection: Connection) -> None:
        """Use ``connection`` from the next prompt on (offline or timeout changed)."""
        if connection == self.connection:
            return
        going_online = self.connection.offline and not connection.offline
        self.drop_client()
        self.connection = connection
        if going_online and self.emulator is not None:
            self.emulator.stop()
            self.emulator = None

    def drop_client(self) -> None:
        """Forget the client; the next prompt makes a new one."""
        with self._client_lock:
            if self._caches is not None:
                self._caches.close()  # caches cost storage: delete them while we can
                self._caches = None
            if self._client is not None:
                self._client.close()
            self._client = None
            self._uploads = None

    def start_emulator(self) -> str:
        """Start the bundled offline emulator (once) and return its URL."""
        if self.emulator is None:
            self.emulator = self._serve(self.connection.offline_replies)
        return self.emulator.url

    def close(self) -> None:
        self.jobs.shutdown()
        self.drop_client()
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None

    # --- the conversations on disk ------------------------------------------------

    def resume(self) -> str | None:
        """Load the autosaved conversations of this notebook, if there are any."""
        store, note = self.history.resume()
        if store is not None:
            self.store = store
        self.resumed_note = note
        return note

    def move_history(self, setting: str) -> str | None:
        """Save to ``setting``'s file from now on: resume what is there, or write ours."""
        self.history = HistoryFile(setting)
        if self.history.path is not None and self.history.path.exists():
            return self.resume()
        if not self.store.is_empty():
            self.autosave()
        return None

    def autosave(self) -> None:
        """Save the conversations to the autosave file, if there is one."""
        with self._save_lock:
            self.history.save(self.store)

    def replace_store(self, store: ConversationStore) -> None:
        """Use ``store`` (``%gemini load``) and save it as this notebook's history."""
        self.store = store
        self.history.save(store)

    def add_usage(self, usage: dict[str, int]) -> None:
        for key, value in usage.items():
            self.usage_totals[key] = self.usage_totals.get(key, 0) + value
