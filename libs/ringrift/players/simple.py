"""Players that need no search: uniformly random, and policy-only (the network's prior alone).

The random player is the floor every trained model must clear; the policy-only player measures
what the network has learned without search, which tells apart "the net learned" from "search
covers for a weak net".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ringrift.players.base import immediate
from ringrift.search import Evaluator, LeafBatch, SearchTask


class RandomPlayer:
    """Picks uniformly among the legal moves."""

    def __init__(self, name: str = "random") -> None:
        self.name = name

    def choose(self, state: Any, moves: Sequence[Any], rng: np.random.Generator) -> SearchTask[Any]:
        return immediate(moves[int(rng.integers(len(moves)))])


class PolicyPlayer:
    """Plays the evaluator's prior: its most likely move, or a sample at ``temperature`` > 0."""

    def __init__(self, evaluator: Evaluator, name: str = "policy", temperature: float = 0.0) -> None:
        self.evaluator = evaluator
        self.name = name
        self.temperature = temperature

    def choose(self, state: Any, moves: Sequence[Any], rng: np.random.Generator) -> SearchTask[Any]:
        [evaluation] = yield LeafBatch(self.evaluator, [state], [moves])
        priors = np.asarray(evaluation.priors, dtype=np.float64)
        if self.temperature <= 0:
            return moves[int(np.argmax(priors))]
        weights = np.power(np.maximum(priors, 1e-12), 1.0 / self.temperature)
        return moves[int(rng.choice(len(moves), p=weights / weights.sum()))]
