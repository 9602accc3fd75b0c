"""Intervals for match scores: Wilson's interval, at the effective number of games of the rounds.

Results are counted in independent units (:mod:`ringrift.evaluation.schedule`): for 2 players
game pairs with swapped seats, whose two games are not independent of each other (the seat
advantage cancels inside a pair), for 3-4 players single games. The spread of the score is
measured over units, which is what the pentanomial model of fishtest does for pairs.

The interval is Wilson's, not the normal approximation's: the normal interval leaves [0, 1] and
collapses to a point near 0% or 100%, exactly where a model that crushes the random player
lives. With the variance measured over rounds, Wilson's formula is used at the *effective*
number of games ``n = s (1 - s) / Var(s)``: for independent wins and losses that is the number
of games (the classic interval); pairing, draws and seat effects change it in the direction
the data show. When the units show no spread at all (every one alike), the number of games
is used, since a handful of identical pairs proves less than a zero variance claims.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ringrift.evaluation.scores import score_to_elo

Z_95 = 1.959963984540054
"""Two-sided 95% quantile of the standard normal."""


def wilson_interval(successes: float, trials: float, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    Args:
        successes: number of successes; may be fractional (a draw counts half).
        trials: number of trials (may be fractional: an effective number).
        z: normal quantile (default: 95% two-sided).

    Returns:
        (low, high); (0.0, 1.0) when there are no trials.

    Raises:
        ValueError: successes outside [0, trials].
    """
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials * (1 + 1e-12):
        raise ValueError(f"successes {successes} outside [0, {trials}]")
    p = min(successes / trials, 1.0)
    z2 = z * z
    denominator = 1.0 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class ScoreEstimate:
    """A mean score per game with its 95% interval, and the same on the Elo scale."""

    score: float
    low: float
    high: float
    elo: float
    elo_low: float
    elo_high: float
    games: int
    effective_games: float
    """The number of independent win-or-loss games that would give the same interval."""


def estimate_score(histogram: np.ndarray, games_per_unit: int) -> ScoreEstimate:
    """The candidate's mean score and interval from its histogram of unit results.

    Args:
        histogram: counts of units by score, bin ``k`` meaning a mean score per game of
            ``k / (len - 1)`` (:class:`ringrift.evaluation.tally.MatchTally` builds it).
        games_per_unit: games in one unit (2 for pairs, else 1).

    Returns:
        The estimate; for no units, score 0.5 with the interval [0, 1].
    """
    counts = np.asarray(histogram, dtype=np.float64)
    units = float(counts.sum())
    games = int(round(units)) * games_per_unit
    if units == 0:
        return ScoreEstimate(0.5, 0.0, 1.0, 0.0, score_to_elo(0.0), score_to_elo(1.0), 0, 0.0)
    values = np.arange(len(counts)) / (len(counts) - 1)
    score = float(counts @ values / units)
    variance_of_mean = float(counts @ (values - score) ** 2 / units) / units
    binomial = score * (1.0 - score)
    if variance_of_mean > 0 and binomial > 0:
        effective = binomial / variance_of_mean
    else:
        effective = float(games)
    low, high = wilson_interval(score * effective, effective)
    return ScoreEstimate(score, low, high, score_to_elo(score), score_to_elo(low),
                         score_to_elo(high), games, effective)
