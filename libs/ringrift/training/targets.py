"""Value targets: a game's final ranking turned into one value per seat.

A seat's value is the mean of the linear scores of the places its rank occupies:
with ``N`` players, place ``k`` (1-based) scores ``1 - 2 (k - 1) / (N - 1)``, so
the winner gets +1 and the last -1, and tied players share the mean of the places
they hold (a 2-player draw is 0 for both). Values always sum to zero, which keeps
the value head from learning a bias toward any seat.

The network predicts values with seats **relative to the player to move**
(index 0 = mover, then the seats that follow in turn order);
:func:`values_for_mover` and :func:`values_to_absolute` convert between that and
absolute seat order (index 0 = player 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def ranking_to_values(ranks: Sequence[int]) -> np.ndarray:
    """Per-seat values in absolute seat order from competition ranks (1 = best, "1224").

    Args:
        ranks: the rank of player 1, 2, ... (ties share a rank; the next rank skips).

    Returns:
        float32 ``[num_players]`` in [-1, 1], summing to zero.

    Raises:
        ValueError: fewer than two players, or ranks that are not competition ranks.
    """
    ranks_arr = np.asarray(ranks, dtype=np.int64)
    n = len(ranks_arr)
    if n < 2:
        raise ValueError("a ranking needs at least two players")
    places = np.arange(1, n + 1)
    score = 1.0 - 2.0 * (places - 1) / (n - 1)
    values = np.empty(n, dtype=np.float32)
    for seat, rank in enumerate(ranks_arr):
        tied = int((ranks_arr == rank).sum())
        if rank < 1 or rank + tied - 1 > n or int((ranks_arr < rank).sum()) != rank - 1:
            raise ValueError(f"{list(ranks)} is not a competition ranking")
        values[seat] = score[rank - 1: rank - 1 + tied].mean()
    return values


def values_for_mover(values: np.ndarray, current_player: int) -> np.ndarray:
    """Rotate absolute-order values so that index 0 is ``current_player`` (1-based)."""
    return np.roll(np.asarray(values), -(current_player - 1), axis=-1)


def values_to_absolute(values: np.ndarray, current_player: int) -> np.ndarray:
    """Inverse of :func:`values_for_mover`: index 0 becomes player 1 again."""
    return np.roll(np.asarray(values), current_player - 1, axis=-1)
