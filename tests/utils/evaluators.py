"""Real, deterministic evaluators for search tests (no network needed).

``SolverEvaluator`` knows the exact game-theoretic values of the tiny game, so a search driven by
it must play perfectly; ``HashEvaluator`` gives arbitrary but reproducible non-uniform priors and
values per position, which makes batched-versus-unbatched comparisons meaningful.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from ringrift.search import Evaluation
from tests.utils import tiny_game


class SolverEvaluator:
    """Uniform priors, exact max^n values of the tiny game."""

    def __init__(self) -> None:
        self.positions_evaluated = 0

    def evaluate(self, states: Sequence[tiny_game.TinyState],
                 legal_moves_per_state: Sequence[Sequence[tiny_game.Move]]) -> list[Evaluation]:
        self.positions_evaluated += len(states)
        return [Evaluation(np.full(len(moves), 1.0 / len(moves)),
                           np.asarray(tiny_game.solve(state)))
                for state, moves in zip(states, legal_moves_per_state, strict=True)]


class HashEvaluator:
    """Pseudo-random priors and values derived from a hash of each position."""

    def evaluate(self, states: Sequence[tiny_game.TinyState],
                 legal_moves_per_state: Sequence[Sequence[tiny_game.Move]]) -> list[Evaluation]:
        evaluations = []
        for state, moves in zip(states, legal_moves_per_state, strict=True):
            digest = hashlib.sha256(repr(state).encode()).digest()
            rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
            priors = rng.dirichlet(np.ones(len(moves)))
            evaluations.append(Evaluation(priors, rng.uniform(-1, 1, state.num_players)))
        return evaluations
