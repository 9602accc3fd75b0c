"""Value targets from rankings, and the rotation between absolute and mover-relative seats.

Checks: winner +1 and loser -1 with two players; linear places with 3 and 4
players; tied players share the mean of their places (a 2-player draw is 0);
values always sum to zero; malformed rankings are refused; rotating to the
mover and back is the identity and puts the mover first.
"""

from __future__ import annotations

import numpy as np
import pytest

from ringrift.training.targets import ranking_to_values, values_for_mover, values_to_absolute


@pytest.mark.parametrize(("ranks", "expected"), [
    ([1, 2], [1.0, -1.0]),
    ([2, 1], [-1.0, 1.0]),
    ([1, 1], [0.0, 0.0]),
    ([3, 1, 2], [-1.0, 1.0, 0.0]),
    ([1, 2, 2], [1.0, -0.5, -0.5]),
    ([4, 1, 3, 2], [-1.0, 1.0, -1 / 3, 1 / 3]),
    ([1, 1, 3, 3], [2 / 3, 2 / 3, -2 / 3, -2 / 3]),
])
def test_ranking_to_values(ranks: list[int], expected: list[float]) -> None:
    values = ranking_to_values(ranks)
    assert values == pytest.approx(expected)
    assert float(values.sum()) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("ranks", [[1], [1, 3], [2, 2], [0, 1]])
def test_malformed_rankings_are_refused(ranks: list[int]) -> None:
    with pytest.raises(ValueError):
        ranking_to_values(ranks)


def test_rotation_to_the_mover_and_back() -> None:
    absolute = np.array([0.1, 0.2, 0.3, 0.4])
    relative = values_for_mover(absolute, current_player=3)
    assert relative.tolist() == [0.3, 0.4, 0.1, 0.2]
    assert values_to_absolute(relative, current_player=3).tolist() == absolute.tolist()
