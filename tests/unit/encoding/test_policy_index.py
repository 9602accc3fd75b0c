"""Moves to policy indices and back, on random positions of every board and player count.

Checks, for every position reached by seeded random play (see ``conftest``):
every legal move maps to one index inside the policy; distinct legal moves get
distinct indices; ``index_to_move(move_to_index(m)) == m``; an index no legal move
uses maps to None; and meta moves (resign) have no index. A built square19 recovery
position with more candidate extraction stacks than square8 has rings checks the
extraction slots on the big boards. Over all positions the
move types met are reported by the assertion on coverage for the small boards.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from ringrift.configs import ALL_CONFIGS, GameConfig
from ringrift.encoding import Encoder, EncodingError
from ringrift.game.engine import legal_moves
from ringrift.game.move import Move, MoveType
from tests.unit.encoding.conftest import positions
from tests.unit.game.builders import make_state

_EXPECTED_ON_SMALL_BOARDS = {
    MoveType.PLACE_RING, MoveType.MOVE_STACK, MoveType.OVERTAKING_CAPTURE,
    MoveType.NO_LINE_ACTION, MoveType.NO_TERRITORY_ACTION,
}


@pytest.mark.parametrize("config", ALL_CONFIGS, ids=str)
def test_every_legal_move_has_its_own_index_and_maps_back(config: GameConfig) -> None:
    encoder = Encoder.for_config(config)
    seen: Counter[MoveType] = Counter()
    count = 0
    for state, moves in positions(config, seed=11):
        count += 1
        indices = encoder.legal_indices(state, moves)
        assert len(set(indices.tolist())) == len(moves), [m.describe() for m in moves]
        assert indices.min() >= 0 and indices.max() < encoder.policy_size
        by_index = dict(zip(indices.tolist(), moves, strict=True))
        for move, index in zip(moves, indices.tolist(), strict=True):
            seen[move.type] += 1
            assert by_index[index] == move
        probe = moves[count % len(moves)]
        assert encoder.index_to_move(state, encoder.move_to_index(state, probe), moves) == probe
        unused = next(i for i in range(encoder.policy_size) if i not in by_index)
        assert encoder.index_to_move(state, unused, moves) is None
    assert count > 20
    if config.board_type in ("square8", "hex8"):
        assert _EXPECTED_ON_SMALL_BOARDS <= set(seen), seen


def test_index_to_move_lists_moves_itself() -> None:
    config = GameConfig("square8", 2)
    encoder = Encoder.for_config(config)
    state, moves = next(positions(config, seed=1))
    index = int(encoder.legal_indices(state, moves)[5])
    assert encoder.index_to_move(state, index) == moves[5]


def test_meta_moves_have_no_index() -> None:
    config = GameConfig("square8", 2)
    state, _ = next(positions(config, seed=1))
    with pytest.raises(EncodingError, match="resign"):
        Encoder.for_config(config).move_to_index(state, Move(MoveType.RESIGN, player=1))


def test_policy_sizes_are_fixed_per_board() -> None:
    sizes = {(c.board_type, Encoder.for_config(c).policy_size) for c in ALL_CONFIGS}
    assert len(sizes) == 4
    assert np.all([size > 0 for _, size in sizes])


def test_recovery_with_many_extraction_stacks_on_square19() -> None:
    # Player 1 controls nothing and has one ring buried under each of 30 stacks of player 2:
    # every fallback slide of its marker can extract from any of the 30 (rules §11).
    cells = [f"{x},{y}" for y in (0, 2) for x in range(15)]
    state = make_state(board="square19", phase="movement", stacks={c: [2, 1] for c in cells},
                       markers={"9,9": 1}, hand=[0, 40])
    moves = [m for m in legal_moves(state) if m.type is MoveType.RECOVERY_SLIDE]
    assert len({m.extraction_stacks[0] for m in moves}) == 30
    encoder = Encoder.for_config(GameConfig("square19", 2))
    indices = encoder.legal_indices(state, moves)
    assert len(set(indices.tolist())) == len(moves) == 8 * 30
    for move, index in zip(moves, indices.tolist(), strict=True):
        assert encoder.index_to_move(state, index, moves) == move
    # The extraction choice follows cell order, which no symmetry keeps.
    assert encoder.layout.order_dependent(indices).sum() == 8 * 29
    assert Encoder.for_config(GameConfig("hexagonal", 2)).layout.extraction_slots == 96


def test_swap_sides_has_an_index() -> None:
    from ringrift.game.engine import apply_move, initial_state

    config = GameConfig("square8", 2)
    encoder = Encoder.for_config(config)
    state = initial_state(config, pie_rule=True)
    while state.current_player == 1:
        state = apply_move(state, legal_moves(state)[0])
    moves = legal_moves(state)
    assert MoveType.SWAP_SIDES in {m.type for m in moves}
    indices = encoder.legal_indices(state, moves)
    assert len(set(indices.tolist())) == len(moves)
