"""An evaluation's matches: the gate against the opponent, then the baselines, each game stored.

The library plays them (:func:`ringrift.evaluation.play_gate_match` in batches with the
GSPRT checked after each, :func:`ringrift.evaluation.play_match` for the fixed-size
baselines); this module hands it the games stored so far (a resumed match plays only the
missing indices of the same schedule), stores every game the moment it ends, counts it,
and stops a match cooperatively: each player checks before every move whether the job
must stop (SIGTERM, partition revoked), so a cancelled match gives its worker back within
one move and resumes from its stored games elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine

from ringrift.evaluation import (
    GameResult,
    GateDecision,
    GateRun,
    GateSettings,
    MatchOptions,
    MatchPlan,
    MatchSummary,
    play_gate_match,
    play_match,
)
from ringrift.players.base import Player
from ringrift.search import GameRules, SearchTask
from services.evaluator import matchlog
from services.evaluator.metrics import GAMES_PLAYED

log = logging.getLogger(__name__)


class Interruptible:
    """A player that calls ``check`` (which raises to stop the match) before every move."""

    def __init__(self, player: Player, check: Callable[[], None]) -> None:
        self.player = player
        self.name = player.name
        self.check = check

    def choose(self, state: Any, moves: Any, rng: np.random.Generator) -> SearchTask[Any]:
        self.check()
        return (yield from self.player.choose(state, moves, rng))


@dataclass(frozen=True)
class MatchContext:
    """What every match of one evaluation shares."""

    engine: Engine
    evaluation_id: str
    config_key: str
    candidate: Player
    new_game: Callable[[], Any]
    rules: GameRules
    options: MatchOptions
    check: Callable[[], None]
    """Raises to stop (the job's cancellation); called before every move and batch."""

    def stored(self, opponent_id: str) -> list[GameResult]:
        """The games of the match against ``opponent_id`` stored so far (a resumed match)."""
        played = matchlog.stored_results(self.engine, self.evaluation_id, opponent_id)
        if played:
            log.info("evaluation %s: %d games against %s stored already; resuming",
                     self.evaluation_id, len(played), opponent_id)
        return played

    def storer(self, opponent_id: str, role: str) -> Callable[[GameResult], None]:
        """``on_game`` of a match: store the game, count it."""
        def store(result: GameResult) -> None:
            matchlog.store_game(self.engine, evaluation_id=self.evaluation_id,
                                opponent_id=opponent_id, config_key=self.config_key,
                                role=role, result=result)
            GAMES_PLAYED.labels(self.config_key, role).inc()
        return store


def play_gate(context: MatchContext, settings: GateSettings, seed: int, opponent: Player,
              opponent_id: str, on_batch: Callable[[GateDecision], None]) -> GateRun:
    """The gate's sequential match against ``opponent`` (resumed from its stored games)."""
    num_players = context.new_game().num_players
    plan = settings.plan(num_players, seed)
    played = context.stored(opponent_id)

    def after_batch(decision: GateDecision) -> None:
        on_batch(decision)
        if not decision.final:
            context.check()

    return play_gate_match(settings, plan, Interruptible(context.candidate, context.check),
                           Interruptible(opponent, context.check), context.new_game,
                           context.rules, played=played, options=context.options,
                           on_game=context.storer(opponent_id, matchlog.GATE),
                           on_batch=after_batch)


def play_baseline(context: MatchContext, games: int, seed: int, opponent: Player,
                  opponent_id: str) -> MatchSummary:
    """A fixed-size match against one baseline (resumed from its stored games)."""
    num_players = context.new_game().num_players
    plan = MatchPlan.from_games(num_players, seed, batch_games=games, max_games=games)
    played = context.stored(opponent_id)
    tally = play_match(plan, Interruptible(context.candidate, context.check),
                       Interruptible(opponent, context.check), context.new_game,
                       context.rules, played=played, options=context.options,
                       on_game=context.storer(opponent_id, matchlog.BASELINE))
    return tally.summary()
