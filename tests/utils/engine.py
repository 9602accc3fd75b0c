"""Helpers for tests that play real RingRift: the rules module and seeded random positions."""

from __future__ import annotations

import numpy as np

from ringrift.configs import GameConfig
from ringrift.search import GameRules, engine_rules


def rules() -> GameRules:
    return engine_rules()


def new_game(board: str = "square8", players: int = 2):
    from ringrift.game import initial_state

    config = GameConfig(board, players)
    return lambda: initial_state(config, pie_rule=False)


def random_position(board: str = "square8", players: int = 2, plies: int = 30, seed: int = 0):
    """The position after ``plies`` random moves from the start (or the end, if sooner)."""
    game_rules = rules()
    state = new_game(board, players)()
    rng = np.random.default_rng(seed)
    for _ in range(plies):
        if state.is_terminal:
            break
        moves = game_rules.legal_moves(state)
        state = game_rules.apply_move(state, moves[int(rng.integers(len(moves)))])
    return state
