"""The batched Evaluator protocol: priors over legal moves and per-seat values for many leaves.

Search asks for whole batches (``evaluate(states, legal_moves_per_state)``) because a network
evaluated one position at a time spends its time in call overhead; a lockstep runner collects
leaves from dozens of games and makes one call. Priors are given over the legal moves the caller
passes, in that order, so the evaluator never guesses which moves are legal; values are one per
seat in absolute seat order (index ``i`` is player ``i + 1``), in ``[-1, 1]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np


class Evaluation(NamedTuple):
    """What an evaluator says about one position."""

    priors: np.ndarray
    """float64 probabilities over the legal moves passed in, same order, summing to 1."""
    values: np.ndarray
    """float64 value per seat, absolute seat order, in ``[-1, 1]``."""


class Evaluator(Protocol):
    """Anything that scores positions in batches (uniform, network, cached network...)."""

    def evaluate(self, states: Sequence[Any],
                 legal_moves_per_state: Sequence[Sequence[Any]]) -> list[Evaluation]:
        """Score ``states``; ``legal_moves_per_state[i]`` are the legal moves of ``states[i]``.

        Returns:
            One :class:`Evaluation` per state, in order.
        """
        ...


class UniformEvaluator:
    """Uniform priors and zero values: search with it is plain rollout-free tree search.

    It is the evaluator tests use to check that search itself finds wins (terminal values are
    the only signal it sees), and the self-play evaluator before any model exists.
    """

    def __init__(self) -> None:
        self.positions_evaluated = 0
        self.calls = 0

    def evaluate(self, states: Sequence[Any],
                 legal_moves_per_state: Sequence[Sequence[Any]]) -> list[Evaluation]:
        self.calls += 1
        self.positions_evaluated += len(states)
        evaluations = []
        for state, moves in zip(states, legal_moves_per_state, strict=True):
            count = len(moves)
            priors = np.full(count, 1.0 / count) if count else np.zeros(0)
            evaluations.append(Evaluation(priors, np.zeros(state.num_players)))
        return evaluations
