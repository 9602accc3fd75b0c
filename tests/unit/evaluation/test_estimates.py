"""Score intervals: Wilson's against published values, and at the effective number of games.

Checks: Wilson's interval on worked examples, edge cases and bad input; the interval of a
histogram of independent win-or-loss games is exactly Wilson's over those games; pairs whose
games cancel (seat advantage) give a narrower interval, pairs that agree a wider one; a
clean sweep keeps an honest interval; no games is uninformative; Elo follows the score.
"""

from __future__ import annotations

import numpy as np
import pytest

from ringrift.evaluation import estimate_score, score_to_elo, wilson_interval


@pytest.mark.parametrize(("successes", "trials", "low", "high"), [
    (8, 10, 0.4902, 0.9433),   # Wilson (1927) / Newcombe (1998) worked example
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (50, 100, 0.4038, 0.5962),
    (81, 263, 0.2553, 0.3662),  # Newcombe (1998) table I, 81/263
])
def test_known_values(successes, trials, low, high):
    got_low, got_high = wilson_interval(successes, trials)
    assert got_low == pytest.approx(low, abs=1e-4)
    assert got_high == pytest.approx(high, abs=1e-4)


def test_draws_count_half_and_interval_contains_the_rate():
    low, high = wilson_interval(7.5, 10)
    assert low < 0.75 < high


def test_no_trials_is_uninformative_and_bad_counts_are_rejected():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_independent_games_give_wilsons_interval():
    # 3-player games counted one by one: bins 0, 1/4, ... 1; only wins (1) and losses (0).
    estimate = estimate_score(np.array([30, 0, 0, 0, 70]), games_per_unit=1)
    assert estimate.games == 100 and estimate.score == pytest.approx(0.7)
    assert (estimate.low, estimate.high) == pytest.approx(wilson_interval(70, 100))
    assert estimate.effective_games == pytest.approx(100)
    assert estimate.elo == pytest.approx(score_to_elo(0.7))
    assert estimate.elo_low < estimate.elo < estimate.elo_high


def test_pairs_measure_their_own_spread():
    # 40 pairs scoring 1-1 and 10 won twice: score 0.6 over 100 games, little spread.
    balanced = estimate_score(np.array([0, 0, 40, 0, 10]), games_per_unit=2)
    # The same score from pairs won or lost together: more spread than 100 coin flips.
    together = estimate_score(np.array([20, 0, 0, 0, 30]), games_per_unit=2)
    binomial = wilson_interval(60, 100)
    assert balanced.score == together.score == pytest.approx(0.6)
    assert balanced.high - balanced.low < binomial[1] - binomial[0] < together.high - together.low


def test_a_sweep_and_no_games():
    sweep = estimate_score(np.array([0, 0, 0, 0, 25]), games_per_unit=2)
    assert sweep.score == 1.0 and (sweep.low, sweep.high) == pytest.approx(wilson_interval(50, 50))
    empty = estimate_score(np.zeros(5), games_per_unit=2)
    assert (empty.games, empty.low, empty.high) == (0, 0.0, 1.0)
