"""Round-trip property: states from seeded random play survive the wire formats.

Checks, on every board type and player count, for states sampled along seeded
random games: ``fingerprint(read(write(state))) == fingerprint(state)`` for the
contract and host forms; the written elimination counters agree (players,
``board.eliminatedRings``, ``totalRingsEliminated``, rules §2.3); the engine state rebuilt from the wire
(``GameState.from_wire``) has the same fingerprint and the same legal moves; moves
survive a JSON round trip equal to themselves.
"""

from __future__ import annotations

import random

import pytest

from ringrift.configs import ALL_CONFIGS, GameConfig
from ringrift.game import engine
from ringrift.game.fingerprint import fingerprint
from ringrift.game.state import GameState
from ringrift.game.wire import dumps_state, loads_state
from ringrift.game.wire_move import move_from_json, move_to_json

# Moves per game and sampling stride: enough to reach captures, lines and territory on
# the small boards while keeping the large boards quick.
_MAX_MOVES = {"square8": 400, "hex8": 400, "square19": 150, "hexagonal": 150}
_STRIDE = 7


@pytest.mark.parametrize("config", ALL_CONFIGS, ids=str)
def test_random_play_states_round_trip(config: GameConfig) -> None:
    rng = random.Random(f"roundtrip-{config.key}")
    state = engine.initial_state(config)
    checked = 0
    for ply in range(_MAX_MOVES[config.board_type]):
        if state.is_terminal:
            break
        legal = engine.legal_moves(state)
        if ply % _STRIDE == 0 or len(legal) == 1:
            wire = state.to_wire()
            expected = fingerprint(wire)
            credited = {p.player_number: p.eliminated_rings for p in wire.players}
            assert wire.board_eliminated_rings == credited, ply  # rules §2.3
            assert wire.total_rings_eliminated == sum(credited.values()), ply
            for form in ("contract", "host"):
                assert fingerprint(loads_state(dumps_state(wire, form))) == expected, ply
            rebuilt = GameState.from_wire(loads_state(dumps_state(wire)))
            assert fingerprint(rebuilt) == expected, ply
            assert engine.legal_moves(rebuilt) == legal, ply
            checked += 1
        move = legal[rng.randrange(len(legal))]
        assert move_from_json(move_to_json(move)) == move
        state = engine.apply_move(state, move)
    assert checked > 10
