"""Self-play-shaped games without a search, for tests and benchmarks of the data path.

A synthetic game is a real game of the rules engine whose every position with more than
one legal move is a :class:`~ringrift.selfplay.play.Decision` with a random policy over
its legal moves (a Dirichlet draw), the move played drawn from that policy. It has what a
self-play game has (moves, decisions, ranking, final state) at the cost of random play, so
the exporter's tests and ``make bench-exporter`` can make many real, replayable records
without a network or a search.
"""

from __future__ import annotations

import numpy as np

from ringrift.configs import GameConfig
from ringrift.game import engine
from ringrift.selfplay.play import Decision, SelfPlayGame


def synthetic_game(config: GameConfig, seed: int, *, game_id: str = "",
                   max_moves: int | None = None) -> SelfPlayGame:
    """One synthetic game of ``config``; the same seed gives the same game.

    Args:
        config: board and player count.
        seed: the random seed.
        game_id: the game's id (default ``synthetic-<config>-<seed>``).
        max_moves: stop after this many moves; the game is then truncated (no result).
    """
    rng = np.random.default_rng(seed)
    state = engine.initial_state(config)
    moves, decisions = [], []
    while not state.is_terminal:
        if max_moves is not None and len(moves) >= max_moves:
            return SelfPlayGame(game_id or f"synthetic-{config.key}-{seed}", moves, decisions,
                                (1,) * config.num_players, True, 0, state)
        legal = engine.legal_moves(state)
        move = legal[0]
        if len(legal) > 1:
            policy = rng.dirichlet(np.ones(len(legal)))
            decisions.append(Decision(state, legal, policy.astype(np.float32), len(moves)))
            move = legal[int(rng.choice(len(legal), p=policy))]
        moves.append(move)
        state = engine.apply_move(state, move)
    return SelfPlayGame(game_id or f"synthetic-{config.key}-{seed}", moves, decisions,
                        tuple(engine.final_ranking(state)), False, 0, state)
