"""The generalised sequential probability ratio test on Elo, over histograms of match results.

This is the test fishtest decides Stockfish patches with (M. Van den Bergh's GSPRT): H0 says
the candidate's expected score per game is ``s0 = L(elo0)``, H1 says ``s1 = L(elo1)`` (``L``
the logistic Elo curve). The results are a histogram of independent units over known values
(a unit's mean score per game); under each hypothesis the distribution of units is the
maximum likelihood one *with that mean*, fitted to the observed histogram, and the
log-likelihood ratio of the two fits is the test statistic. No draw model or variance is
assumed: the test adapts to whatever the games produce (draws, seat advantage, correlated
pairs). For 2 players the histogram is the pentanomial one (game pairs); for 3-4 players it is
the distribution of the candidate's score by rank per game.

The constrained fit has a closed form up to one number: ``q_k = p_k / (1 + x (a_k - s))``
with ``x`` the root of ``sum_k p_k (a_k - s) / (1 + x (a_k - s)) = 0``, found by bisection
(the left side falls monotonically on the interval where every ``q_k`` is positive). Empty
bins get a count of 1e-3, as in fishtest, so the fit exists from the first unit on. All
functions take a stack of histograms, so thousands of simulated matches are tested at once
(:mod:`ringrift.evaluation.characteristics`) with exactly the code the gate runs.

Wald's bounds: accept H1 when the LLR reaches ``log((1 - beta) / alpha)``, H0 when it falls to
``log(beta / (1 - alpha))``. Looking only after each batch of rounds overshoots the bounds a
little, which makes the real error rates somewhat smaller than alpha and beta, not larger.
"""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np

from ringrift.evaluation.scores import elo_to_score

_EMPTY_BIN = 1e-3
_BISECTIONS = 80


class Verdict(StrEnum):
    """Where a sequential test stands."""

    CONTINUE = "continue"
    """Neither bound reached and games left: play the next batch."""
    PASS = "pass"
    """H1 accepted: the candidate is at least ``elo1`` better (within beta)."""
    FAIL = "fail"
    """H0 accepted: the candidate is no better than ``elo0`` (within alpha)."""
    INCONCLUSIVE = "inconclusive"
    """The maximum number of games was played without reaching a bound."""


def wald_bounds(alpha: float, beta: float) -> tuple[float, float]:
    """(lower, upper) LLR bounds for error rates ``alpha`` (false pass) and ``beta`` (false fail)."""
    return math.log(beta / (1.0 - alpha)), math.log((1.0 - beta) / alpha)


def log_likelihood_ratio(histograms: np.ndarray, elo0: float, elo1: float) -> np.ndarray:
    """The GSPRT log-likelihood ratio of H1 (``elo1``) against H0 (``elo0``) per histogram.

    Args:
        histograms: counts of units by value, shape ``(..., bins)``; bin ``k`` holds units
            whose mean score per game is ``k / (bins - 1)``.
        elo0: the Elo difference of H0.
        elo1: the Elo difference of H1 (greater than ``elo0``).

    Returns:
        The LLR of each histogram, shape ``histograms.shape[:-1]`` (0 for an empty one).
    """
    counts = np.asarray(histograms, dtype=np.float64)
    values = np.arange(counts.shape[-1]) / (counts.shape[-1] - 1)
    units = counts.sum(axis=-1)
    regular = np.where(counts > 0, counts, _EMPTY_BIN)
    observed = regular / regular.sum(axis=-1, keepdims=True)
    fit0 = _fit_with_mean(observed, values, float(elo_to_score(elo0)))
    fit1 = _fit_with_mean(observed, values, float(elo_to_score(elo1)))
    return units * np.sum(observed * (np.log(fit1) - np.log(fit0)), axis=-1)


def verdicts(llr: np.ndarray, rounds: int, max_rounds: int, alpha: float,
             beta: float) -> np.ndarray:
    """The verdict (:class:`Verdict` value strings) for each LLR after ``rounds`` rounds."""
    lower, upper = wald_bounds(alpha, beta)
    llr = np.asarray(llr, dtype=np.float64)
    undecided = Verdict.INCONCLUSIVE.value if rounds >= max_rounds else Verdict.CONTINUE.value
    return np.where(llr >= upper, Verdict.PASS.value,
                    np.where(llr <= lower, Verdict.FAIL.value, undecided))


def _fit_with_mean(observed: np.ndarray, values: np.ndarray, mean: float) -> np.ndarray:
    """The distribution over ``values`` nearest (max. likelihood) to ``observed`` with ``mean``."""
    offsets = values - mean
    shape = observed.shape[:-1]
    # 1 + x * offset > 0 for every bin: x in (-1 / (1 - mean), 1 / mean).
    low = np.full(shape, -1.0 / (1.0 - mean))
    high = np.full(shape, 1.0 / mean)
    for _ in range(_BISECTIONS):
        middle = 0.5 * (low + high)
        slope = np.sum(observed * offsets / (1.0 + middle[..., None] * offsets), axis=-1)
        right = slope > 0
        low = np.where(right, middle, low)
        high = np.where(right, high, middle)
    root = 0.5 * (low + high)
    fitted = observed / (1.0 + root[..., None] * offsets)
    return fitted / fitted.sum(axis=-1, keepdims=True)
