"""The rules interface search plays through, and terminal values from a final ranking.

Search, players and self-play take the rules as a parameter (``rules: GameRules``) rather than
importing the engine, so the same code runs on RingRift (``engine_rules()``, the
``ringrift.game`` module itself satisfies the protocol) and on the tiny games under
``tests/utils`` that make search testable by exhaustive solving.

Values are per seat, in absolute seat order: index ``i`` is player ``i + 1``, in ``[-1, 1]``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Protocol, cast

import numpy as np


class SearchState(Protocol):
    """What search reads from a position (the engine's ``GameState`` has all of it)."""

    @property
    def num_players(self) -> int: ...

    @property
    def current_player(self) -> int: ...

    @property
    def is_terminal(self) -> bool: ...


class GameRules(Protocol):
    """The rule functions of a game, as exposed by ``ringrift.game``."""

    def legal_moves(self, state: Any, /) -> list[Any]: ...

    def apply_move(self, state: Any, move: Any, /) -> Any: ...

    def final_ranking(self, state: Any, /) -> Sequence[int]: ...


Move = Hashable
"""A move is whatever the rules return; search only stores and hands it back."""


def engine_rules() -> GameRules:
    """The RingRift rules engine (imported lazily so ``--help`` stays fast)."""
    import ringrift.game as game

    return cast(GameRules, game)


def terminal_values(ranking: Sequence[int]) -> np.ndarray:
    """Per-seat values of a finished game from its ranking (1 = best, ties share a rank).

    A seat scores by its average finishing position: tied seats split the places they span,
    so a two-player draw is 0 for both and values always sum to zero. First place is +1, last
    is -1, linear in between (3 players: +1, 0, -1).

    Args:
        ranking: rank per player, index ``i`` for player ``i + 1``.

    Returns:
        float32 array of one value per seat.
    """
    ranks = np.asarray(ranking, dtype=np.int64)
    num_players = len(ranks)
    values = np.empty(num_players, dtype=np.float32)
    for seat, rank in enumerate(ranks):
        better = int(np.sum(ranks < rank))
        tied = int(np.sum(ranks == rank))
        mean_place = better + (tied + 1) / 2.0
        values[seat] = 1.0 - 2.0 * (mean_place - 1.0) / (num_players - 1)
    return values
