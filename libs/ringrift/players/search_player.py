"""A player that runs Gumbel AlphaZero search with an evaluator (uniform or network)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ringrift.search import Evaluator, GameRules, GumbelConfig, SearchTask, gumbel_search


class SearchPlayer:
    """Chooses the move Gumbel search selects.

    The root Gumbel noise stays on by default (``config.gumbel_scale``): sequential halving
    still picks strong moves, and two search players with the same network would otherwise
    replay the same game every time.
    """

    def __init__(self, evaluator: Evaluator, rules: GameRules, config: GumbelConfig,
                 name: str = "search") -> None:
        self.evaluator = evaluator
        self.rules = rules
        self.config = config
        self.name = name

    def choose(self, state: Any, moves: Sequence[Any], rng: np.random.Generator) -> SearchTask[Any]:
        result = yield from gumbel_search(state, self.rules, self.evaluator, self.config, rng,
                                          moves=moves)
        return result.move
