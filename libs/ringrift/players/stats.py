"""Wilson score intervals: honest 95% intervals for win rates from few games.

The normal approximation gives intervals outside [0, 1] and far too narrow near 0% or 100%,
exactly where a model that crushes the random player lives; Wilson's interval does not.
"""

from __future__ import annotations

import math

Z_95 = 1.959963984540054
"""Two-sided 95% quantile of the standard normal."""


def wilson_interval(successes: float, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    Args:
        successes: number of successes; may be fractional (a draw counts half).
        trials: number of trials.
        z: normal quantile (default: 95% two-sided).

    Returns:
        (low, high); (0.0, 1.0) when there are no trials.

    Raises:
        ValueError: successes outside [0, trials].
    """
    if trials == 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials:
        raise ValueError(f"successes {successes} outside [0, {trials}]")
    p = successes / trials
    z2 = z * z
    denominator = 1.0 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
