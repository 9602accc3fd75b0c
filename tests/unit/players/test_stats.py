"""Wilson score intervals against published values, edge cases and bad input."""

from __future__ import annotations

import pytest

from ringrift.players import wilson_interval


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
