"""The rules interface search plays through, and terminal values from a final ranking.

Search, players and self-play take the rules as a parameter (``rules: GameRules``) rather than
importing the engine, so the same code runs on RingRift (``engine_rules()``, the
``ringrift.game`` module itself satisfies the protocol) and on the tiny games under
``tests/utils`` that make search testable by exhaustive solving.

Values are per seat, in absolute seat order: index ``i`` is player ``i + 1``, in ``[-1, 1]``.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def engine_rules() -> GameRules:
    """The RingRift rules engine (imported lazily so ``--help`` stays fast)."""
    import ringrift.game as game

    return cast(GameRules, game)


def terminal_values(ranking: Sequence[int]) -> np.ndarray:
    """Per-seat values of a finished game (absolute seat order), from its final ranking.

    The one definition is the training target's (``ringrift.training.targets``): search must
    back up exactly the values the value head is trained on. Imported here lazily, so that
    importing search does not import the training stack.
    """
    from ringrift.training.targets import ranking_to_values

    return ranking_to_values(ranking)
