"""Matches end to end: a fixed number of rounds, or the gate's sequential match; both resumable.

:func:`play_match` plays every game of a plan (a baseline match, ``ringrift match``, the loop's
fixed-size gate); :func:`play_gate_match` plays batch after batch and asks the gate after each
one, stopping at the first final decision. Both take the results already played (read back
from a match log) and play only the missing game indices, so a match killed at any point
resumes where its stored games end and reaches the decision the uninterrupted match would
have (the schedule is a function of the game index). Each finished game is handed to
``on_game`` at once, so a service can store it before the next one ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ringrift.evaluation.games import GameResult, play_games
from ringrift.evaluation.gate import GateDecision, GateSettings, decide
from ringrift.evaluation.schedule import MatchPlan
from ringrift.evaluation.tally import MatchTally
from ringrift.players.base import Player
from ringrift.search import GameRules


@dataclass(frozen=True)
class MatchOptions:
    """How a match's games are played (not what they decide)."""

    concurrency: int | None = 64
    """Games in lockstep at once (their leaves share one network call)."""
    max_moves: int | None = None
    """Safety cap per game; a capped game is a tie of all seats."""
    description: str | None = None
    """Label of the progress bar."""


@dataclass(frozen=True)
class GateRun:
    """A finished gate match: its final decision and every game counted, by index."""

    decision: GateDecision
    results: list[GameResult]


def play_match(plan: MatchPlan, candidate: Player, opponent: Player,
               new_game: Callable[[], Any], rules: GameRules, *,
               played: Iterable[GameResult] = (), options: MatchOptions = MatchOptions(),
               on_game: Callable[[GameResult], None] | None = None) -> MatchTally:
    """Play all ``plan.max_rounds`` rounds of ``candidate`` against ``opponent``.

    Args:
        plan: the schedule (rounds, seeds).
        candidate: the player measured (one seat per game).
        opponent: the player in every other seat.
        new_game: makes the initial position.
        rules: the game's rule functions.
        played: results already played (skipped, and counted).
        options: concurrency, move cap, progress label.
        on_game: called with each new result as its game ends.

    Returns:
        The tally of every game of the plan.
    """
    tally = MatchTally(plan.num_players, played)
    _play_missing(range(plan.max_games), plan, tally, candidate, opponent, new_game, rules,
                  options, on_game)
    return tally


def play_gate_match(settings: GateSettings, plan: MatchPlan, candidate: Player,
                    opponent: Player, new_game: Callable[[], Any], rules: GameRules, *,
                    played: Iterable[GameResult] = (), options: MatchOptions = MatchOptions(),
                    on_game: Callable[[GameResult], None] | None = None,
                    on_batch: Callable[[GateDecision], None] | None = None) -> GateRun:
    """Play the gate's match in batches until its test decides (or the games run out).

    Args:
        settings: the gate (hypotheses, error rates, sizes).
        plan: the schedule, ``settings.plan(num_players, seed)``.
        candidate, opponent, new_game, rules, played, options, on_game: as for
            :func:`play_match`.
        on_batch: called with the decision after each batch (final or not), e.g. for
            progress and metrics.

    Returns:
        The final decision and all counted results.

    Raises:
        ValueError: ``plan`` has other batch or match sizes than ``settings`` gives.
    """
    expected = settings.plan(plan.num_players, plan.seed)
    if (plan.rounds_per_batch, plan.max_rounds) != (expected.rounds_per_batch,
                                                    expected.max_rounds):
        raise ValueError(f"the plan's sizes {plan} differ from the gate's {expected}; "
                         "use settings.plan(num_players, seed)")
    tally = MatchTally(plan.num_players, played)
    for number in range(plan.batches):
        _play_missing(plan.batch(number), plan, tally, candidate, opponent, new_game, rules,
                      options, on_game)
        decision = decide(settings, tally, plan.rounds_after_batch(number))
        if on_batch is not None:
            on_batch(decision)
        if decision.final:
            break
    counted = sorted((r for games in tally.complete_rounds() for r in games),
                     key=lambda result: result.index)
    return GateRun(decision, counted)


def _play_missing(indices: range, plan: MatchPlan, tally: MatchTally, candidate: Player,
                  opponent: Player, new_game: Callable[[], Any], rules: GameRules,
                  options: MatchOptions, on_game: Callable[[GameResult], None] | None) -> None:
    missing = plan.missing(indices, tally.played)
    if not missing:
        return
    results = play_games([plan.game(index) for index in missing], candidate, opponent,
                         new_game, rules, concurrency=options.concurrency,
                         max_moves=options.max_moves, on_game=on_game,
                         description=options.description)
    tally.add(results)
