"""Generated history files: random, truncated, wrong-version and damaged JSON.

Whatever the file holds, resuming from it either loads a conversation the session can
use (send from, save again) or raises a clear error naming the file, which is moved
aside byte for byte, never rewritten; and the session saves a new history after it.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from google.genai import types
from hypothesis import given
from hypothesis import strategies as st

from gemini_magic.command.export import markdown
from gemini_magic.errors import HistoryError
from gemini_magic.state.conversation import FORMAT, VERSION, ConversationStore, Exchange
from gemini_magic.state.history import HistoryFile

pytestmark = pytest.mark.properties

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_PART = st.fixed_dictionaries(
    {},
    optional={
        "text": st.one_of(st.text(max_size=8), _JSON),
        "thought": st.one_of(st.booleans(), _JSON),
        "thought_signature": st.one_of(st.just("c2ln"), _JSON),
    },
)
_CONTENT = st.one_of(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "model"]), "parts": st.lists(_PART, max_size=2)}
    ),
    _JSON,
)
_EXCHANGE = st.fixed_dictionaries(
    {"user": _CONTENT, "model": _CONTENT},
    optional={
        key: _JSON
        for key in (
            "id",
            "api",
            "interaction_id",
            "cell_id",
            "prompt",
            "model_name",
            "usage",
            "created",
        )
    },
)
_FILE = st.fixed_dictionaries(
    {
        "format": st.one_of(st.just(FORMAT), _JSON),
        "version": st.one_of(st.just(VERSION), st.integers(0, 3), _JSON),
        "conversations": st.one_of(
            st.dictionaries(st.text(max_size=5), st.lists(_EXCHANGE, max_size=2), max_size=2),
            _JSON,
        ),
    }
)


@st.composite
def history_texts(draw: st.DrawFn) -> bytes:
    """A history file's bytes: generated JSON, maybe truncated or not UTF-8."""
    text = json.dumps(draw(st.one_of(_FILE, _JSON)), allow_nan=True).encode()
    damage = draw(st.sampled_from(["none", "none", "truncate", "garbage", "bytes"]))
    if damage == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif damage == "garbage":
        text += draw(st.binary(max_size=4))
    elif damage == "bytes":
        text = draw(st.binary(max_size=30))
    return text


@given(history_texts())
def test_any_history_file_resumes_or_fails_naming_it_and_keeps_its_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "notebook.gemini-history.json")
        path.write_bytes(data)
        history = HistoryFile(str(path))
        store, _ = history.resume()
        if store is None:
            error = history.take_pending_error()
            assert isinstance(error, HistoryError)
            assert path.name in error.message
            (aside,) = Path(folder).glob("*.unreadable-*")
            assert aside.read_bytes() == data  # moved aside, never rewritten
            store = ConversationStore()
        else:
            assert path.read_bytes() == data  # read, not rewritten
            _use(store)
        # The session goes on: a new turn is recorded and saved.
        store.get().record(_exchange())
        history.save(store)
        assert ConversationStore.load(path).get().exchanges[-1].prompt == "next"


def _use(store: ConversationStore) -> None:
    """What a session does with a resumed store before and after its next turn."""
    for conversation in store:
        conversation.context_for(None, resend_media=True)
        for exchange in conversation.exchanges:
            assert isinstance(exchange.cell_id, str | None)
            assert isinstance(exchange.interaction_id, str | None)
    json.dumps(store.to_json())
    markdown(store)


def _exchange() -> Exchange:
    return Exchange(
        user=types.Content(role="user", parts=[types.Part(text="next")]),
        model=types.Content(role="model", parts=[types.Part(text="ok")]),
        prompt="next",
    )


# --- the inputs the property found, as plain regression tests --------------------------


@pytest.mark.parametrize(
    "exchange",
    [
        {"usage": {"total_token_count": float("inf")}},
        {"usage": {"total_token_count": 1e400}},
        {"cell_id": ["not", "an", "id"]},
        {"interaction_id": {"id": 1}},
    ],
    ids=["infinite-usage", "overflowing-usage", "list-cell-id", "dict-interaction-id"],
)
def test_a_damaged_exchange_is_a_history_error_naming_the_file(
    exchange: dict[str, Any], tmp_path: Path
) -> None:
    exchange = {"user": {"role": "user"}, "model": {"role": "model"}, **exchange}
    path = tmp_path / "h.json"
    data = {"format": FORMAT, "version": VERSION, "conversations": {"default": [exchange]}}
    path.write_text(json.dumps(data))
    with pytest.raises(HistoryError, match=r"h\.json is damaged"):
        ConversationStore.load(path)


def test_a_deeply_nested_history_file_is_a_history_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(HistoryError, match=r"deep\.json"):
        ConversationStore.load(path)
