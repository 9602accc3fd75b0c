"""Feature planes and globals: shapes, the mover's point of view, hex padding.

Checks: every config encodes to ``[C, H, W]`` and ``[G]`` float32 with the sizes
the encoder announces; cells off a hex board stay zero in every plane but the
board mask; after player 1 places a ring its stack is on seat 0's plane while
player 1 moves and on seat 1's plane once player 2 is to move, and the rings in
hand rotate the same way; exactly one phase is set; a batch equals its states
encoded one by one; a state of another config is refused.
"""

from __future__ import annotations

import numpy as np
import pytest

from ringrift.configs import ALL_CONFIGS, GameConfig
from ringrift.encoding import Encoder, EncodingError
from ringrift.encoding.features import PHASES, SEAT_PLANES
from ringrift.game.engine import apply_move, initial_state, legal_moves
from ringrift.game.move import MoveType
from tests.unit.encoding.conftest import positions


@pytest.mark.parametrize("config", ALL_CONFIGS, ids=str)
def test_shapes_and_padding(config: GameConfig) -> None:
    encoder = Encoder.for_config(config)
    states = [state for _, (state, _) in zip(range(30), positions(config, seed=2),
                                             strict=False)]
    planes, globals_ = encoder.encode_batch(states)
    s = encoder.shape
    assert planes.shape == (len(states), s.in_channels, s.height, s.width)
    assert globals_.shape == (len(states), s.num_globals)
    assert planes.dtype == np.float32 and globals_.dtype == np.float32
    valid = states[0].geometry.valid_mask
    mask_plane = SEAT_PLANES * config.num_players
    assert np.array_equal(planes[:, mask_plane], np.broadcast_to(valid, planes[:, 0].shape))
    outside = planes[:, :, ~valid]
    assert not outside.any()
    phase = globals_[:, 3 * config.num_players: 3 * config.num_players + len(PHASES)]
    assert np.array_equal(phase.sum(axis=1), np.ones(len(states)))
    one_by_one = [encoder.encode(state) for state in states]
    assert np.array_equal(planes, np.stack([p for p, _ in one_by_one]))
    assert np.array_equal(globals_, np.stack([g for _, g in one_by_one]))


def test_point_of_view_follows_the_mover() -> None:
    config = GameConfig("square8", 2)
    encoder = Encoder.for_config(config)
    state = initial_state(config)
    place = next(m for m in legal_moves(state)
                 if m.type is MoveType.PLACE_RING and m.placement_count == 1)
    state = apply_move(state, place)
    row, col = place.to.y, place.to.x  # square boards: row = y, col = x
    planes, globals_ = encoder.encode(state)
    assert state.current_player == 1
    assert planes[0, row, col] == 1.0 and planes[SEAT_PLANES, row, col] == 0.0
    assert globals_[0] == pytest.approx(17 / 18) and globals_[1] == pytest.approx(1.0)
    while state.current_player == 1:
        state = apply_move(state, legal_moves(state)[0])
    planes, globals_ = encoder.encode(state)
    owner_planes = planes[[0, SEAT_PLANES]].sum(axis=(1, 2))
    assert owner_planes[0] == 0.0 and owner_planes[1] >= 1.0
    assert globals_[0] == pytest.approx(1.0) and globals_[1] == pytest.approx(17 / 18)


def test_other_config_is_refused() -> None:
    state = initial_state(GameConfig("hex8", 2))
    with pytest.raises(EncodingError, match="square8_2p"):
        Encoder.for_config(GameConfig("square8", 2)).encode(state)
