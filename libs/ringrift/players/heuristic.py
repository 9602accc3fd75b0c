"""The heuristic baseline: one-ply look-ahead on a hand-written evaluation of the position.

For every legal move the player applies it and scores the result for itself: progress toward a
ring-elimination win (rings credited as eliminated), toward a territory win (territory spaces),
material (rings in controlled stacks, counted by their caps, which is what captures), markers on
the board (the raw material of lines) and mobility (legal moves when it is its turn again,
the opponents' when it is theirs). Each term is the player's share minus the mean of its
opponents', so the same evaluation serves 2-4 players. A move that wins outright is always
taken; ties are broken at random so games against it vary.

It reads only the engine's read-only state views, so it is a check on the network that needs
no training, and a target the trained model must beat (> 60% in the closing benchmark).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ringrift.players.base import immediate
from ringrift.search import GameRules, SearchTask

_WIN = 1e6


@dataclass(frozen=True)
class HeuristicWeights:
    """Weights of the evaluation terms (each term is roughly in [-1, 1] before weighting)."""

    eliminated: float = 20.0
    territory: float = 10.0
    material: float = 3.0
    caps: float = 2.0
    markers: float = 0.5
    mobility: float = 1.0


def evaluate_position(state: Any, player: int, rules: GameRules,
                      weights: HeuristicWeights = HeuristicWeights()) -> float:
    """Score ``state`` for ``player`` (1-based); higher is better for that player."""
    if state.is_terminal:
        ranking = list(rules.final_ranking(state))
        return _WIN if ranking[player - 1] == 1 and ranking.count(1) == 1 else -_WIN
    n = state.num_players
    controller = state.stack_controller.astype(np.int64)
    material = np.bincount(controller, weights=state.stack_height, minlength=n + 1)[1:]
    caps = np.bincount(controller, weights=state.cap_height, minlength=n + 1)[1:]
    markers = np.bincount(state.marker_owner.astype(np.int64), minlength=n + 1)[1:]
    rings = max(1, state.rings_per_player)
    cells = max(1, len(controller))
    terms = (
        weights.eliminated * state.eliminated_rings / max(1, state.victory_threshold),
        weights.territory * state.territory_spaces / max(1, state.territory_victory_minimum),
        weights.material * (material + state.rings_in_hand) / rings,
        weights.caps * caps / rings,
        weights.markers * markers / cells * 4.0,
    )
    per_player = np.sum(terms, axis=0).astype(np.float64)
    mobility = weights.mobility * len(rules.legal_moves(state)) / 50.0
    per_player[state.current_player - 1] += mobility
    me = player - 1
    others = np.delete(per_player, me)
    return float(per_player[me] - others.mean())


class HeuristicPlayer:
    """Plays the legal move whose resulting position evaluates best for it."""

    def __init__(self, rules: GameRules, name: str = "heuristic",
                 weights: HeuristicWeights = HeuristicWeights()) -> None:
        self.rules = rules
        self.name = name
        self.weights = weights

    def choose(self, state: Any, moves: Sequence[Any], rng: np.random.Generator) -> SearchTask[Any]:
        player = state.current_player
        scores = np.array([
            evaluate_position(self.rules.apply_move(state, move), player, self.rules,
                              self.weights)
            for move in moves])
        best = np.flatnonzero(scores >= scores.max() - 1e-9)
        return immediate(moves[int(rng.choice(best))])
