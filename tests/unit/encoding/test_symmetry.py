"""Symmetries: permutations that round-trip, form a group, and agree with the moves.

Checks, for every board: 8 symmetries on square boards and 12 on hex boards,
the identity first; every plane and policy map is a permutation; applying a
symmetry then its inverse gives back the planes and indices; composing two
symmetries gives one of the list (on planes and on policy indices). On random
positions of square8 and hex8 with 2-4 players, square19 2-player and hexagonal
3-player (a sample of the moves of each big-board position): the index a symmetry gives a legal
move equals the index of the geometrically transformed move, and the features
at a move's anchor cell travel to the anchor of its transformed index.
Territory decisions and recovery slides with an extraction choice are left out
of the move check: their anchor ranks follow cell order, not geometry (see
``ringrift.encoding.symmetry``).
"""

from __future__ import annotations

import numpy as np
import pytest

from ringrift.configs import ALL_CONFIGS, BOARD_TYPES, GameConfig
from ringrift.encoding import Encoder, symmetries, transform_move
from ringrift.game.move import Move, MoveType
from tests.unit.encoding.conftest import positions

SMALL = [c for c in ALL_CONFIGS if c.board_type in ("square8", "hex8")]
# Big boards: one player count each, and a sample of each position's moves.
CHECKED = [*SMALL, GameConfig("square19", 2), GameConfig("hexagonal", 3)]


@pytest.mark.parametrize("board", BOARD_TYPES)
def test_permutations_and_round_trip(board: str) -> None:
    config = GameConfig(board, 3)
    encoder = Encoder.for_config(config)
    syms = symmetries(config)
    assert len(syms) == (12 if board.startswith("hex") else 8)
    size = encoder.policy_size
    assert np.array_equal(syms[0].policy_map, np.arange(size))
    rng = np.random.default_rng(0)
    shape = encoder.shape
    planes = rng.random((2, shape.in_channels, shape.height, shape.width), dtype=np.float32)
    indices = np.arange(size)
    for sym in syms:
        assert np.array_equal(np.sort(sym.policy_map), indices)
        assert np.array_equal(np.sort(sym.grid_source), np.arange(shape.height * shape.width))
        inverse = sym.inverse()
        assert np.array_equal(inverse.apply_planes(sym.apply_planes(planes)), planes)
        assert np.array_equal(inverse.apply_indices(sym.apply_indices(indices)), indices)


@pytest.mark.parametrize("board", ["square8", "hex8"])
def test_symmetries_form_a_group(board: str) -> None:
    config = GameConfig(board, 2)
    syms = symmetries(config)
    maps = {sym.policy_map.tobytes() for sym in syms}
    grids = {sym.grid_source.tobytes() for sym in syms}
    assert len(maps) == len(syms) == len(grids)
    for a in syms:
        for b in syms:
            assert b.policy_map[a.policy_map].tobytes() in maps
            assert a.grid_source[b.grid_source].tobytes() in grids


def _geometric(move: Move) -> bool:
    if move.type is MoveType.CHOOSE_TERRITORY_OPTION:
        return False
    return move.type is not MoveType.RECOVERY_SLIDE or bool(move.collapse_positions)


@pytest.mark.parametrize("config", CHECKED, ids=str)
def test_transformed_moves_map_consistently(config: GameConfig) -> None:
    encoder = Encoder.for_config(config)
    layout = encoder.layout
    syms = symmetries(config)
    checked = 0
    for number, (state, moves) in enumerate(positions(config, seed=5)):
        if number % 7:
            continue  # every 7th position keeps the test short; all move types still appear
        planes, _ = encoder.encode(state)
        if len(moves) > 60:
            moves = moves[:: len(moves) // 40]
        indices = encoder.legal_indices(state, moves)
        for sym in syms:
            moved = sym.apply_planes(planes)
            for move, index in zip(moves, indices.tolist(), strict=True):
                if not _geometric(move):
                    continue
                image = transform_move(sym, state.geometry, move)
                assert sym.policy_map[index] == layout.move_to_index(state, image), (
                    sym.name, move.describe())
                plane, cell = layout.anchor(index)
                if plane >= 0:
                    _, new_cell = layout.anchor(int(sym.policy_map[index]))
                    geo = state.geometry
                    assert np.array_equal(
                        planes[:, geo.cell_row[cell], geo.cell_col[cell]],
                        moved[:, geo.cell_row[new_cell], geo.cell_col[new_cell]])
                checked += 1
    assert checked > 500


@pytest.mark.parametrize("config", [GameConfig("square8", 2), GameConfig("hex8", 3)], ids=str)
def test_every_line_and_recovery_block_maps_consistently(config: GameConfig) -> None:
    """Exhaustive over the rare geometric moves random play seldom reaches."""
    from ringrift.game.codec import positions as cell_positions
    from ringrift.game.engine import initial_state
    from ringrift.game.move import Cells, LineInfo

    encoder = Encoder.for_config(config)
    layout = encoder.layout
    state = initial_state(config)
    geo = state.geometry
    pos = cell_positions(geo)
    line_len = state.line_length
    probes: list[Move] = []
    for start in range(geo.num_cells):
        for d in geo.line_dirs:
            for length in range(line_len, int(geo.ray_len[start, d]) + 2):
                cells = Cells(pos[c] for c in
                              [start, *geo.rays[start, d, :length - 1].tolist()])
                probes.append(Move(MoveType.PROCESS_LINE, 1,
                                   formed_lines=(LineInfo(cells, 1),)))
        for d in range(geo.num_dirs):
            dest = int(geo.step_nbrs[start, d])
            if dest < 0:
                continue
            for axis_dir in geo.line_dirs:
                back = int(geo.opposite[axis_dir])
                for k in range(line_len):
                    if geo.ray_len[dest, back] < k or geo.ray_len[dest, axis_dir] < line_len - 1 - k:
                        continue
                    first = dest if k == 0 else int(geo.rays[dest, back, k - 1])
                    block = [first, *geo.rays[first, axis_dir, :line_len - 1].tolist()]
                    probes.append(Move(MoveType.RECOVERY_SLIDE, 1, from_pos=pos[start],
                                       to=pos[dest], recovery_mode="line", recovery_option=2,
                                       collapse_positions=Cells(pos[c] for c in block)))
    indices = [layout.move_to_index(state, m) for m in probes]
    assert len(set(indices)) == len(probes)
    for sym in symmetries(config):
        for move, index in zip(probes, indices, strict=True):
            image = transform_move(sym, geo, move)
            assert sym.policy_map[index] == layout.move_to_index(state, image), (
                sym.name, move)
