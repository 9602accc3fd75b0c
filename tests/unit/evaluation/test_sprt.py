"""The GSPRT statistic against independent computations, and its verdicts.

Checks: for a 3-bin histogram (losses, draws, wins) the LLR equals the difference of the two
constrained maximum likelihoods found by brute force over the one-parameter family of
distributions with each mean; for large samples it agrees with the normal approximation
``N (s1 - s0) (2 m - s0 - s1) / (2 var)``; it is 0 without games, grows with wins, and is the
same whether histograms are passed one by one or stacked; the verdicts follow Wald's bounds
and the game limit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ringrift.evaluation import elo_to_score, log_likelihood_ratio
from ringrift.evaluation.sprt import Verdict, verdicts, wald_bounds


def brute_force_llr(counts, elo0, elo1):
    """max log-likelihood with mean s1 minus with mean s0, over a fine grid (values 0, 1/2, 1)."""
    counts = np.asarray(counts, dtype=np.float64)

    def best(mean):
        # q = (1 - q1 - q2, q1, q2) with q1 / 2 + q2 = mean: one free parameter, q2.
        q2 = np.linspace(max(0.0, 2 * mean - 1), mean, 400_001)[1:-1]
        q1 = 2 * (mean - q2)
        q0 = 1 - q1 - q2
        ok = (q0 > 0) & (q1 > 0)
        q = np.stack([q0[ok], q1[ok], q2[ok]])
        return float(np.max(counts @ np.log(q)))

    return best(float(elo_to_score(elo1))) - best(float(elo_to_score(elo0)))


@pytest.mark.parametrize("counts", [(30, 20, 50), (45, 10, 45), (60, 5, 35), (3, 4, 9)])
def test_llr_is_the_ratio_of_constrained_maximum_likelihoods(counts):
    got = float(log_likelihood_ratio(np.array(counts), 0.0, 40.0))
    assert got == pytest.approx(brute_force_llr(counts, 0.0, 40.0), abs=1e-4)


def test_llr_agrees_with_the_normal_approximation_for_many_games():
    rng = np.random.default_rng(0)
    s0, s1 = float(elo_to_score(0)), float(elo_to_score(20))
    for mean in (0.48, 0.51, 0.53):
        probabilities = np.array([(1 - mean) * 0.8, 0.2, mean * 0.8])
        probabilities = probabilities / probabilities.sum()
        counts = rng.multinomial(20_000, probabilities)
        values = np.array([0.0, 0.5, 1.0])
        m = counts @ values / counts.sum()
        variance = counts @ (values - m) ** 2 / counts.sum()
        normal = counts.sum() * (s1 - s0) * (2 * m - s0 - s1) / (2 * variance)
        got = float(log_likelihood_ratio(counts, 0.0, 20.0))
        assert got == pytest.approx(normal, rel=0.03, abs=0.05)


def test_llr_sign_monotony_and_stacking():
    assert float(log_likelihood_ratio(np.zeros(5), 0, 40)) == 0.0
    pentanomials = np.array([[0, 0, 10, 0, 0], [0, 0, 10, 5, 0], [0, 0, 10, 5, 5],
                             [0, 0, 10, 5, 10], [10, 0, 0, 0, 0]])
    stacked = log_likelihood_ratio(pentanomials, 0, 40)
    one_by_one = [float(log_likelihood_ratio(row, 0, 40)) for row in pentanomials]
    assert stacked.tolist() == pytest.approx(one_by_one)
    assert stacked[0] < 0 < stacked[1] < stacked[2] < stacked[3]
    assert stacked[4] < stacked[0]
    # Evidence from a sweep is capped near log(s1 / s0) per pair (H0 could put its mass on
    # losses never seen): what a decision at least costs.
    sweep = float(log_likelihood_ratio(np.array([0, 0, 0, 0, 20]), 0, 40))
    assert sweep == pytest.approx(20 * math.log(elo_to_score(40) / 0.5), rel=0.02)


def test_verdicts_follow_the_bounds_and_the_game_limit():
    lower, upper = wald_bounds(0.05, 0.05)
    assert (lower, upper) == pytest.approx((math.log(0.05 / 0.95), math.log(0.95 / 0.05)))
    llr = np.array([upper, upper - 1e-9, 0.0, lower + 1e-9, lower])
    assert verdicts(llr, 10, 200, 0.05, 0.05).tolist() == [
        "pass", "continue", "continue", "continue", "fail"]
    assert verdicts(llr, 200, 200, 0.05, 0.05).tolist() == [
        "pass", "inconclusive", "inconclusive", "inconclusive", "fail"]
    assert Verdict("pass") is Verdict.PASS
