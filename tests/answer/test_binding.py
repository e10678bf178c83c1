"""Binding records across a conversation's turns (pure: no shell, no service)."""

from __future__ import annotations

import itertools

import pytest

from gemini_magic.answer.binding import Binding, binding_record, conversation_bindings


def _record(own: str, position: int, expression: str) -> dict:
    binding = Binding((own, f"input_file_{position}.csv"), expression)
    return binding_record(binding, position)


@pytest.mark.parametrize("turns", range(1, 5))
def test_numbers_run_across_turns_and_each_name_binds_once(turns):
    names = ["sales", "costs", "sales"]  # a name attached again in a later turn
    for picked in itertools.product(names, repeat=turns):
        records = [
            ([_record(f"{n}.csv", 0, n), _record("extra.csv", 1, "extra")], 2) for n in picked
        ]
        bindings = conversation_bindings(records)
        every = [name for b in bindings for name in b.filenames]
        assert len(every) == len(set(every))  # no name bound twice
        numbered = [name for name in every if name.startswith("input_file_")]
        assert numbered == [f"input_file_{i}.csv" for i in range(2 * turns)]
        # An own name means the latest turn's file of that name.
        for own in {f"{n}.csv" for n in picked}:
            last_turn = max(t for t, n in enumerate(picked) if f"{n}.csv" == own)
            [binding] = [b for b in bindings if b.filenames[0] == own]
            assert binding.filenames == (own, f"input_file_{2 * last_turn}.csv")
        [extra] = [b for b in bindings if b.filenames[0] == "extra.csv"]
        assert extra.filenames == ("extra.csv", f"input_file_{2 * turns - 1}.csv")


def test_a_turn_that_sent_files_without_live_objects_still_counts():
    # Turn 1 sent a -f file (no binding) and a frame; turn 2 a frame.
    bindings = conversation_bindings(
        [([_record("sales.csv", 1, "sales")], 2), ([_record("costs.csv", 0, "costs")], 1)]
    )
    assert [b.filenames for b in bindings] == [
        ("sales.csv", "input_file_1.csv"),
        ("costs.csv", "input_file_2.csv"),
    ]
