"""Positions for the encoding tests: seeded random play through the real rules engine.

Small boards are played from the start to the end. Big boards (square19,
hexagonal) are first fast-forwarded with the engine's compiled random playout
(``phases.random_playout``, the kernel its own property tests use) to several
depths, so that mid- and late-game phases are reached within the test budget,
and then stepped through ``legal_moves``/``apply_move`` for a few dozen plies.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import torch

from ringrift.configs import GameConfig
from ringrift.game import phases
from ringrift.game.engine import apply_move, initial_state, legal_moves
from ringrift.game.move import Move
from ringrift.game.state import GameState

torch.set_num_threads(1)

BIG_BOARDS = ("square19", "hexagonal")
GAMES_ON_SMALL_BOARDS = 20


def fast_forward(state: GameState, seed: int, plies: int) -> GameState:
    """``state`` after up to ``plies`` uniformly random moves made inside the engine kernel."""
    out = state.copy()
    out.rings, _, _ = phases.random_playout(out.board, out.rings, out.players, out.meta,
                                            out.pending_region, out.geometry_tuple(), seed,
                                            plies)
    return out


def positions(config: GameConfig, seed: int) -> Iterator[tuple[GameState, list[Move]]]:
    """Non-terminal positions of seeded random games with their legal moves."""
    rng = random.Random(seed)
    if config.board_type in BIG_BOARDS:
        starts = [fast_forward(initial_state(config), seed + depth, depth)
                  for depth in (0, 150, 300, 450, 600, 750)]
        budget = 40
    else:
        starts = [initial_state(config) for _ in range(GAMES_ON_SMALL_BOARDS)]
        budget = 2000
    for state in starts:
        for _ in range(budget):
            if state.is_terminal:
                break
            moves = legal_moves(state)
            yield state, moves
            state = apply_move(state, rng.choice(moves))
