"""Where a notebook's conversations are saved after every turn, and resumed from.

``history_file = "auto"`` saves beside the notebook (``<notebook>.gemini-history.json``)
when the kernel knows its notebook, so a restarted kernel resumes the conversation where
it was.  A file that is not ours, or is damaged, is moved aside — never overwritten —
and the error is raised by the next prompt, so nobody loses a conversation silently.

Two kernels can write one file (two front ends on one notebook).  A save holds a lock
(``fcntl.flock`` on a hidden file beside it) while it reads what is there, adds the
turns another kernel wrote that this session never had, and replaces the file
atomically: no turn is lost and the file is never left half-written.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from gemini_magic.errors import GeminiMagicError, HistoryError
from gemini_magic.state.conversation import ConversationStore


def notebook_history_path(environ: Mapping[str, str] = os.environ) -> Path | None:
    """``<notebook>.gemini-history.json`` beside the kernel's notebook, when it is known.

    Jupyter Server tells a kernel its notebook through ``JPY_SESSION_NAME``.
    """
    session = environ.get("JPY_SESSION_NAME", "").strip()
    if not session:
        return None
    notebook = Path(session)
    return notebook.with_name(notebook.stem + ".gemini-history.json")


def history_target(setting: str) -> Path | None:
    """Where a ``history_file`` setting saves to (None: nowhere)."""
    setting = setting.strip()
    if setting == "auto":
        return notebook_history_path()
    return Path(setting).expanduser() if setting else None


class HistoryFile:
    """The autosave file of one session's conversations (or none)."""

    def __init__(self, setting: str) -> None:
        self.path = history_target(setting)
        #: An unreadable file found at start, raised by the next prompt.
        self.pending_error: GeminiMagicError | None = None
        #: The exchanges this session has had (loaded or made): any other exchange in
        #: the file was written by another kernel and is kept when we save.
        self._known: set[str] = set()

    def resume(self) -> tuple[ConversationStore | None, str | None]:
        """The conversations saved at :attr:`path`, and a one-line note saying so.

        ``(None, None)`` when there is nothing to resume; a file that cannot be read is
        moved aside and its error kept in :attr:`pending_error`.
        """
        path = self.path
        if path is None or not path.exists():
            return None, None
        try:
            store = ConversationStore.load(path)
        except HistoryError as exc:
            aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
            path.replace(aside)
            self.pending_error = HistoryError(
                f"{exc.message} It was moved to {aside.name}; a new conversation starts.",
                hint="Look at the moved file if it mattered; this notebook's history is now "
                f"saved to {path.name} again.",
            )
            return None, None
        self._known |= _ids(store)
        turns = sum(len(c.exchanges) for c in store)
        return store, f"gemini-magic: resumed {turns} turn(s) of conversation from {path.name}."

    def check_move(self, setting: str, store: ConversationStore) -> None:
        """Refuse to move a conversation onto another one (never overwritten, never mixed)."""
        target = history_target(setting)
        if target is not None and target != self.path and target.exists() and not store.is_empty():
            raise HistoryError(
                f"{target} already holds a conversation, and this session has one too: "
                f"load it with %gemini load {target}, or choose another file."
            )

    def save(self, store: ConversationStore) -> None:
        """Save ``store`` at :attr:`path`, if anywhere, keeping other kernels' turns."""
        if self.path is None:
            return
        self._known |= _ids(store)
        with _locked(self.path):
            self._with_foreign_turns(store).save(self.path)

    def _with_foreign_turns(self, store: ConversationStore) -> ConversationStore:
        """``store`` plus the turns another kernel saved to the file, in time order."""
        assert self.path is not None
        try:
            on_disk = ConversationStore.load(self.path)
        except HistoryError:  # no file yet (or not ours: resume moved such a one aside)
            return store
        foreign = [
            (conversation.name, exchange)
            for conversation in on_disk
            for exchange in conversation.exchanges
            if exchange.id not in self._known
        ]
        if not foreign:
            return store
        merged = ConversationStore()
        for conversation in store:
            merged.get(conversation.name).exchanges = list(conversation.exchanges)
        for name, exchange in foreign:
            merged.get(name).exchanges.append(exchange)
        for conversation in merged:
            conversation.exchanges.sort(key=lambda exchange: exchange.created)
        return merged

    def take_pending_error(self) -> GeminiMagicError | None:
        error, self.pending_error = self.pending_error, None
        return error


def _ids(store: ConversationStore) -> set[str]:
    return {exchange.id for conversation in store for exchange in conversation.exchanges}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for ``path`` (on a hidden file beside it) while saving.

    Where ``fcntl`` is missing (Windows), saves are still atomic, only not merged under
    a lock.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    lock = path.with_name(f".{path.name}.lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock, "a+")  # noqa: SIM115 - held for the with-block below
    except OSError:
        yield  # an unwritable folder: the save itself reports it
        return
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
