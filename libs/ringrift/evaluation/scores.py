"""Scores by rank for 2-4 players, and the logistic Elo scale they are read on.

A player's score in one game is ``(N - place) / (N - 1)``: 1 for first, 0 for last, and tied
players share the mean of the places they hold (a 2-player draw is 1/2 each; a game stopped at
the move cap ranks everyone first together, 1/2 each). That is the training's value target
rescaled from [-1, 1] to [0, 1] (:func:`ringrift.search.terminal_values`, the one definition of
"shared places split"), and it equals the fraction of opponents the player finished ahead of
(a tie counting half): the mean of its pairwise results. So the parity score is 1/2 in every
player count, and the Elo scale of 2-player games carries over unchanged: a player ``d`` Elo
stronger than each of its opponents expects ``1 / (1 + 10^(-d/400))`` in every pairwise
comparison, hence the same score by rank. Ratings (:mod:`ringrift.evaluation.ratings`) fit the
same pairwise comparisons.

Scores are also kept as integers, ``units = 2 (N - 1) * score`` (0..2(N-1)), so histograms of
game and round results have exact bins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ringrift.search import terminal_values

PARITY_SCORE = 0.5
"""The expected score of a player equal to its opponents, for 2, 3 and 4 players."""

MAX_ELO = 1200.0
"""Elo figures are clamped to +-MAX_ELO: a score of 0 or 1 has no finite Elo, and a score
within 0.1% of either end says no more than "far stronger" or "far weaker"."""


def units_per_game(num_players: int) -> int:
    """The units of a first place alone: ``2 (N - 1)`` (a game's score times this is whole)."""
    return 2 * (num_players - 1)


def score_units(ranking: Sequence[int]) -> list[int]:
    """Each seat's score in whole units (``2 (N - 1) * score``) from competition ranks.

    Args:
        ranking: the rank of seat 1, 2, ... (1 = best; ties share a rank and the next skips,
            as ``final_ranking`` gives them).

    Returns:
        One integer per seat in ``0..2(N-1)``; they sum to ``N (N - 1)``.

    Raises:
        ValueError: fewer than two seats, or not a competition ranking.
    """
    values = terminal_values(ranking)
    scale = len(ranking) - 1
    return [int(round(scale * (float(value) + 1.0))) for value in values]


def rank_scores(ranking: Sequence[int]) -> list[float]:
    """Each seat's score by rank in [0, 1] (see the module docstring)."""
    per_game = units_per_game(len(ranking))
    return [units / per_game for units in score_units(ranking)]


def elo_to_score(elo: float | np.ndarray) -> float | np.ndarray:
    """The expected score of a player ``elo`` stronger than its opponents (logistic Elo)."""
    return 1.0 / (1.0 + np.power(10.0, -np.asarray(elo, dtype=np.float64) / 400.0))


def score_to_elo(score: float) -> float:
    """The Elo difference that expects ``score``, clamped to +-:data:`MAX_ELO`."""
    if score <= 0.0 or score >= 1.0:
        return MAX_ELO if score >= 1.0 else -MAX_ELO
    elo = -400.0 * math.log10(1.0 / score - 1.0)
    return min(max(elo, -MAX_ELO), MAX_ELO)
