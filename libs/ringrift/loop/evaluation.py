"""Evaluation of a candidate model: matches against the self-play model and the baselines.

The candidate plays as a search player (its network inside Gumbel search, as it will play in
self-play) against: the current self-play model under the same search (the promotion gate),
the random player and the heuristic player; and as a policy-only player (its network without
search) against random, which shows what the network itself has learned. In 3-4 player games
the candidate takes one seat and the opponent fills the others; seats rotate every game.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ringrift.players import (
    PolicyPlayer,
    RandomPlayer,
    Record,
    SearchPlayer,
    play_match,
)
from ringrift.players.base import Player
from ringrift.players.heuristic import HeuristicPlayer
from ringrift.search import Evaluator, GameRules, GumbelConfig


@dataclass
class EvaluationSummary:
    """The candidate's record in each match (None where the match was not played)."""

    vs_previous: Record
    vs_random: Record | None
    vs_heuristic: Record | None
    policy_vs_random: Record | None


def evaluate_candidate(candidate: Evaluator, previous: Evaluator, *, rules: GameRules,
                       new_game: Callable[[], Any], num_players: int, games: int,
                       simulations: int, seed: int, baselines: bool = True,
                       heuristic: bool = True,
                       concurrency: int = 32, max_moves: int | None = None) -> EvaluationSummary:
    """Play the evaluation matches of one generation.

    Args:
        candidate: the new model's evaluator.
        previous: the current self-play model's evaluator (uniform before the first model).
        rules: the game's rule functions.
        new_game: makes the initial position.
        num_players: seats per game.
        games: games per match.
        simulations: search budget per move for both search players.
        seed: base seed; each match offsets it.
        baselines: play the random, heuristic and policy-only matches (else only the gate).
        heuristic: also play the heuristic player (when ``baselines``).
        concurrency: games in lockstep per match.
        max_moves: safety cap per game.
    """
    search = GumbelConfig(simulations=simulations)
    me = SearchPlayer(candidate, rules, search, name="candidate")

    def match(opponent: Player, offset: int, label: str, player: Player = me) -> Record:
        seats = [player] + [opponent] * (num_players - 1)
        result = play_match(seats, new_game, rules, games, seed=seed + offset,
                            concurrency=concurrency, max_moves=max_moves, description=label)
        return result.records[0]

    vs_previous = match(SearchPlayer(previous, rules, search, name="previous"), 1,
                        "eval vs previous")
    if not baselines:
        return EvaluationSummary(vs_previous, None, None, None)
    return EvaluationSummary(
        vs_previous=vs_previous,
        vs_random=match(RandomPlayer(), 2, "eval vs random"),
        vs_heuristic=match(HeuristicPlayer(rules), 3, "eval vs heuristic") if heuristic else None,
        policy_vs_random=match(RandomPlayer(), 4, "eval policy vs random",
                               player=PolicyPlayer(candidate, name="candidate-policy")),
    )
