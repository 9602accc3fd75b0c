"""Seeded random play on every board and player count.

Checks, move by move: the player to move always has a legal move until the game ends;
every cell is consistent (one of stack / marker / collapse; controller and cap match the rings;
collapsed cells per owner equal the territory counters);
every listed move applies; rings are conserved (in hand + on the board + eliminated =
players x rings per player); the progress invariant S never decreases (rules §14);
every game ends well before a generous move cap; a state survives a wire round trip.
The compiled playout loop is checked against the same invariants on more games.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from ringrift.configs import ALL_CONFIGS, GameConfig
from ringrift.game import (
    GameState,
    apply_move,
    apply_row,
    final_ranking,
    fingerprint,
    initial_state,
    legal_moves,
    legal_rows,
)
from ringrift.game import codes as C
from ringrift.game.phases import random_playout
from ringrift.game.stacks import colour_on_board

MOVE_CAP = 5_000


def _rings_total(state: GameState) -> int:
    on_board = colour_on_board(state.board, state.rings, state.num_players)
    return int(state.players[1:, C.HAND].sum() + on_board.sum() + state.total_rings_eliminated)


def _check_cells(state: GameState) -> None:
    """Every cell holds at most one of stack, marker, collapse; stack fields match the rings."""
    board = state.board
    has_stack = board[:, C.H] > 0
    assert not np.any(has_stack & (board[:, C.MARK] > 0))
    assert not np.any((has_stack | (board[:, C.MARK] > 0)) & (board[:, C.COLL] > 0))
    for cell in np.flatnonzero(has_stack):
        rings = state.stack_rings(int(cell))
        cap = 1
        while cap < len(rings) and rings[cap] == rings[0]:
            cap += 1
        assert (board[cell, C.CTRL], board[cell, C.CAP]) == (rings[0], cap)
    assert not np.any(board[~has_stack, C.CTRL])
    collapsed = np.bincount(board[:, C.COLL], minlength=state.num_players + 1)[1:]
    assert (collapsed == state.territory_spaces).all()


def _play_checked(config: GameConfig, seed: int) -> GameState:
    rng = random.Random(seed)
    state = initial_state(config)
    expected = config.num_players * state.rings_per_player
    progress = state.progress()
    for _ in range(MOVE_CAP):
        if state.is_terminal:
            return state
        rows = legal_rows(state)
        assert rows.shape[0] > 0, f"no legal move in {state!r}"
        state = apply_row(state, rows[rng.randrange(rows.shape[0])])
        assert _rings_total(state) == expected
        _check_cells(state)
        assert state.progress() >= progress
        progress = state.progress()
    raise AssertionError(f"{config.key} seed {seed} did not end within {MOVE_CAP} moves")


@pytest.mark.parametrize("config", ALL_CONFIGS, ids=lambda c: c.key)
def test_random_games_keep_the_invariants(config: GameConfig) -> None:
    games = 3 if config.board_type in ("square8", "hex8") else 1
    for seed in range(games):
        final = _play_checked(config, seed)
        assert final.winner in range(1, config.num_players + 1)
        ranks = final_ranking(final)
        assert ranks[final.winner - 1] == 1 and min(ranks) == 1


@pytest.mark.parametrize("key", ["square8_2p", "hex8_3p", "square8_4p"])
def test_every_listed_move_applies(key: str) -> None:
    rng = random.Random(7)
    state = initial_state(GameConfig.parse(key))
    while not state.is_terminal:
        moves = legal_moves(state)
        for move in moves:
            child = apply_move(state, move)
            assert child.move_count == state.move_count + 1
        state = apply_move(state, rng.choice(moves))


@pytest.mark.parametrize("key", ["square8_3p", "hexagonal_2p"])
def test_wire_round_trip_mid_game(key: str) -> None:
    rng = random.Random(3)
    state = initial_state(GameConfig.parse(key))
    for _ in range(150):
        if state.is_terminal:
            break
        state = apply_move(state, rng.choice(legal_moves(state)))
        again = GameState.from_wire(state.to_wire())
        assert fingerprint(again) == fingerprint(state)
        assert [m.type for m in legal_moves(again)] == [m.type for m in legal_moves(state)]


@pytest.mark.parametrize("config", ALL_CONFIGS, ids=lambda c: c.key)
def test_compiled_playouts_end_and_conserve_rings(config: GameConfig) -> None:
    for seed in range(10):
        state = initial_state(config)
        state.rings, made, _ = random_playout(
            state.board, state.rings, state.players, state.meta, state.pending_region,
            state.geometry_tuple(), seed, 100_000)
        assert state.is_terminal, f"seed {seed}: still running after {made} moves"
        assert _rings_total(state) == config.num_players * state.rings_per_player
        assert np.all(state.board[:, C.H] >= 0)
