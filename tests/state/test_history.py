"""The autosave file: resumed by a restarted kernel, shared safely by two kernels."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from google.genai import types
from traitlets import TraitError

from gemini_magic.errors import HistoryError
from gemini_magic.state.conversation import ConversationStore, Exchange
from gemini_magic.state.history import HistoryFile
from tests.helpers.magic import run_cell
from tests.helpers.wire import conversation_prompts


def _exchange(prompt: str, created: float) -> Exchange:
    return Exchange(
        user=types.Content(role="user", parts=[types.Part(text=prompt)]),
        model=types.Content(role="model", parts=[types.Part(text=f"answer to {prompt}")]),
        prompt=prompt,
        created=created,
    )


def _prompts(path: Path) -> list[str]:
    data = json.loads(path.read_text())
    return [e["prompt"] for e in data["conversations"]["default"]]


def test_two_kernels_writing_one_file_lose_no_turn(tmp_path):
    path = tmp_path / "nb.gemini-history.json"
    first, second = HistoryFile(str(path)), HistoryFile(str(path))
    mine, theirs = ConversationStore(), ConversationStore()
    mine.get().record(_exchange("one", 1.0))
    first.save(mine)
    theirs.get().record(_exchange("two", 2.0))
    second.save(theirs)  # knows nothing of "one", and must keep it
    mine.get().record(_exchange("three", 3.0))
    first.save(mine)  # must keep "two"
    assert _prompts(path) == ["one", "two", "three"]


def test_a_reset_in_one_kernel_does_not_bring_its_turns_back(tmp_path):
    path = tmp_path / "nb.gemini-history.json"
    history, store = HistoryFile(str(path)), ConversationStore()
    store.get().record(_exchange("one", 1.0))
    history.save(store)
    store.reset()
    history.save(store)
    assert _prompts(path) == []


def test_a_restarted_kernel_resumes_and_keeps_the_ids(tmp_path):
    path = tmp_path / "nb.gemini-history.json"
    store = ConversationStore()
    store.get().record(_exchange("one", 1.0))
    HistoryFile(str(path)).save(store)
    again = HistoryFile(str(path))
    resumed, note = again.resume()
    assert resumed is not None and "resumed 1 turn" in (note or "")
    resumed.reset()  # what this session loaded is its own: a reset removes it
    again.save(resumed)
    assert _prompts(path) == []


def _writer(path: str, label: str, count: int) -> None:
    history, store = HistoryFile(path), ConversationStore()
    for n in range(count):
        store.get().record(_exchange(f"{label}{n}", float(n)))
        history.save(store)


def test_concurrent_writers_in_two_processes_keep_every_turn_and_valid_json(tmp_path):
    path = str(tmp_path / "nb.gemini-history.json")
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_writer, args=(path, label, 25)) for label in "ab"]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    prompts = _prompts(Path(path))
    assert sorted(prompts) == sorted([f"a{n}" for n in range(25)] + [f"b{n}" for n in range(25)])


def test_an_unwritable_history_fails_the_cell_but_keeps_the_answer(any_api, emulator, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run_cell(any_api, f"%config GeminiMagics.history_file = '{blocker / 'h.json'}'")
    run = run_cell(any_api, "%%gemini\nhello")
    assert isinstance(run.error, HistoryError)
    assert "could not be saved" in str(run.error)
    assert "offline emulator" in run.all_text()  # the footer was shown
    assert any_api.user_ns["_gemini"].text  # and the answer kept
    assert run_cell(any_api, "%config GeminiMagics.history_file = ''").success
    assert run_cell(any_api, "%%gemini\nhello again").success
    assert conversation_prompts(emulator) == ["hello", "hello again"]


def test_moving_the_history_onto_another_conversation_is_refused(any_api, emulator, tmp_path):
    other = tmp_path / "other.gemini-history.json"
    other.write_text(
        json.dumps(
            {"format": "gemini-magic-conversations", "version": 1, "conversations": {"default": []}}
        )
    )
    before = other.read_bytes()
    assert run_cell(any_api, "%%gemini\nhello").success
    magics = any_api.magics_manager.registry["GeminiMagics"]
    with pytest.raises(TraitError, match="already holds a conversation"):
        magics.history_file = str(other)
    run_cell(any_api, f"%config GeminiMagics.history_file = '{other}'")  # logs the same error
    assert magics.history_file == "auto"
    assert other.read_bytes() == before
    assert run_cell(any_api, "%%gemini\nstill here?").success
    assert conversation_prompts(emulator) == ["hello", "still here?"]
