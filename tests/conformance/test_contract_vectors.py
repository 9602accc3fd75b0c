"""Every contract vector's input parses and round-trips (wire-format §4-5, §10), one test per id.

Checks: all 90 vectors of the 18 bundles are loaded (and the ``.reference.json`` file
is not); for each vector the input state and move parse, writing and reading the
state back gives the same state and the same fingerprint, and the move survives a
round trip. Skips and strict expected failures come from ``harness.py``.
"""

from __future__ import annotations

import pytest

from ringrift.game.fingerprint import fingerprint
from ringrift.game.wire import state_from_json, state_to_json
from ringrift.game.wire_move import move_from_json, move_to_json
from tests.conformance.harness import (
    EXPECTED_FAILURES,
    Vector,
    contract_vectors,
    input_move,
    input_state,
    vector_params,
)


def test_every_bundle_is_loaded() -> None:
    vectors = contract_vectors()
    assert len(vectors) == 90  # wire-format §10.1
    assert len({v.id for v in vectors}) == len(vectors)
    assert not any(v.file.endswith(".reference.json") for v in vectors)
    stale = {vid for (_, vid) in EXPECTED_FAILURES}
    assert stale <= {v.id for v in vectors}, "EXPECTED_FAILURES names an unknown vector"


@pytest.mark.parametrize("vector", vector_params("wire"))
def test_wire_round_trip(vector: Vector) -> None:
    state = input_state(vector)
    again = state_from_json(state_to_json(state))
    assert again == state
    assert fingerprint(again) == fingerprint(state)
    move = input_move(vector)
    assert move_from_json(move_to_json(move)) == move
