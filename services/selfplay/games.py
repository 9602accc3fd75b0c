"""The selfplay service's source: a rolling pool of games in lockstep, published as they end.

Each call of :class:`GameLoop` is one unit of the runtime's source work: top the pool up to
``--concurrency`` games (each new game takes its config from the curriculum weights and the
model current for that config *now*), advance every game by one lockstep tick (one network
call per model for all their leaves), and publish the games that ended in one transaction
with the replica's game sequence. A finished game's slot is refilled at the next call, so a
promotion reaches the next game that starts rather than waiting for a whole batch to end,
and the pool stays full (no tail of a batch where few games are left to batch together).

Games in flight live only in memory: a kill loses them, never half a game, and nothing is
published until its game's transaction commits. A publish that fails (database away) keeps
the finished games and retries them before the pool advances again.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from sqlalchemy.exc import SQLAlchemyError

from ringrift.configs import GameConfig
from ringrift.errors import RetryableError
from ringrift.events.gen.ops.v1.ops_pb2 import CurriculumWeights
from ringrift.game import initial_state
from ringrift.search import GameRules, GumbelConfig, LockstepPool, engine_rules
from ringrift.selfplay import SelfPlayGame, SelfPlaySettings, game_task
from ringrift.service.cluster import SELFPLAY, ClusterView
from ringrift.service.hooks import SourceContext
from ringrift.service.metrics import counter, gauge, histogram
from services.selfplay.handlers import (
    ConfigChooser,
    FinishedGame,
    ModelSlots,
    publish_games,
)
from services.selfplay.settings import SelfplaySettings

log = logging.getLogger(__name__)
GAMES = counter("selfplay", "games", "Games published, per config.", ["config"])
POSITIONS = counter("selfplay", "positions", "Moves of the published games (bookkeeping "
                    "included), per config.", ["config"])
DROPPED = counter("selfplay", "games_dropped", "Finished games not published (too large for "
                  "the broker), per config.", ["config"])
GAMES_RATE = gauge("selfplay", "games", "per_second", "Games published per second over the "
                   "last minute, per config.", ["config"])
POSITIONS_RATE = gauge("selfplay", "positions", "per_second", "Positions published per second "
                       "over the last minute, per config.", ["config"])
MODEL_AGE = gauge("selfplay", "model_age", "seconds", "Seconds since the model new games of "
                  "a config start with was promoted (absent before the first promotion).",
                  ["config"])
IN_FLIGHT = gauge("selfplay", "lockstep", "games", "Games in flight in the lockstep pool.", [])
BATCH = histogram("selfplay", "lockstep_batch", "positions", "Positions per network call "
                  "(the leaves of every game of one model in one tick).", [],
                  buckets=(1, 4, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096))
PAUSED = gauge("selfplay", "paused", "seconds", "How long self-play has been paused by the "
               "cluster status (0 while playing).", [])
RATE_WINDOW_S = 60.0


@dataclass(frozen=True)
class GameStart:
    """What is known of a game in flight from its start."""

    config_key: str
    seat_model_ids: tuple[str, ...]
    started_at: float


class GameLoop:
    """The source function: ``loop(context)`` does one tick and returns the work done.

    Args:
        settings: the service's settings (pool size, search budget, ``--max-games``).
        replica_id: this replica's id (game ids and the durable sequence).
        slots: the models new games start with.
        curriculum: the current curriculum weights (None before any).
        cluster: the cluster view (self-play pauses while it defers selfplay).
        max_message_bytes: the broker's record limit.
        rules: the rules to play (the RingRift engine by default).
    """

    def __init__(self, settings: SelfplaySettings, *, replica_id: str, slots: ModelSlots,
                 curriculum: Callable[[], CurriculumWeights | None],
                 cluster: ClusterView, max_message_bytes: int,
                 rules: GameRules | None = None) -> None:
        self.settings, self.replica_id, self.slots = settings, replica_id, slots
        self._curriculum, self._cluster = curriculum, cluster
        self._max_message_bytes = max_message_bytes
        self.rules = rules or engine_rules()
        self.search = SelfPlaySettings(
            GumbelConfig(simulations=settings.simulations,
                         max_considered_actions=settings.max_considered_actions),
            max_moves=settings.max_moves)
        self.entropy = settings.seed if settings.seed is not None else secrets.randbits(63)
        self.pool: LockstepPool[int, SelfPlayGame] = LockstepPool()
        self.chooser = ConfigChooser(settings.configs)
        self.in_flight: dict[int, GameStart] = {}
        self.unpublished: list[FinishedGame] = []
        self.started = self.published = self.positions = 0
        self._first_tick: float | None = None
        self._first_tick_cpu = 0.0
        self.paused: str | None = None
        self._recent: deque[tuple[float, str, int]] = deque()
        self._born = self._paused_since = time.monotonic()
        log.info("selfplay replica %s: %d games in flight, %d simulations, seed %d",
                 replica_id, settings.concurrency, settings.simulations, self.entropy)

    def __call__(self, context: SourceContext) -> int:
        now = time.monotonic()
        self._refresh_gauges(now)
        if self.unpublished and not self._publish(context):
            return 0  # the database is away: keep the games, try again next turn
        self._set_paused(self._cluster.deferral_reason(SELFPLAY))
        if self.paused:
            return 0
        started = self._fill(self.settings.concurrency)
        calls, positions = self.pool.evaluator_calls, self.pool.positions_evaluated
        if self._first_tick is None:
            self._first_tick, self._first_tick_cpu = time.monotonic(), time.process_time()
        finished = self.pool.step()
        if self.pool.evaluator_calls > calls:
            mean = (self.pool.positions_evaluated - positions) / (self.pool.evaluator_calls - calls)
            BATCH.observe(mean)
        IN_FLIGHT.set(len(self.pool))
        context.beat()
        ended = time.monotonic()
        for key, game in finished:
            start = self.in_flight.pop(key)
            self.unpublished.append(FinishedGame(game, start.config_key, start.seat_model_ids,
                                                 ended - start.started_at,
                                                 self.settings.simulations))
        if self.unpublished:
            self._publish(context)
        if self._budget_spent() and not self.in_flight and not self.unpublished:
            seconds = time.monotonic() - (self._first_tick or time.monotonic())
            cpu = time.process_time() - self._first_tick_cpu
            log.info("published %d game(s) (--max-games): stopping; %d positions in %.1f s of "
                     "play = %.1f positions/s (%.1f CPU s in the process = %.1f positions per "
                     "CPU s)", self.published, self.positions, seconds,
                     self.positions / max(seconds, 1e-9), cpu, self.positions / max(cpu, 1e-9))
            context.stop()
        return started + len(finished) + (1 if len(self.pool) else 0)

    def _fill(self, limit: int) -> int:
        """Start games until ``limit`` are in flight (or the budget or the weights say no)."""
        started = 0
        while len(self.in_flight) < limit and not self._budget_spent():
            config_key = self.chooser.next(self._curriculum())
            if config_key is None:
                break
            slot = self.slots.for_new_game(config_key)
            config = GameConfig.parse(config_key)
            key = self.started
            rng = np.random.default_rng([self.entropy, key])
            self.in_flight[key] = GameStart(config_key,
                                            (slot.model.model_id,) * config.num_players,
                                            time.monotonic())
            new_game = partial(initial_state, config, pie_rule=False)
            self.pool.add(key, game_task(new_game, self.rules, slot.model.evaluator,
                                         self.search, rng, f"{self.replica_id}-unpublished-{key}"))
            self.started += 1
            started += 1
        return started

    def _budget_spent(self) -> bool:
        limit = self.settings.max_games
        return limit is not None and \
            self.published + len(self.unpublished) + len(self.in_flight) >= limit

    def _publish(self, context: SourceContext) -> bool:
        games = self.unpublished
        try:
            with context.transaction() as session:
                outputs, dropped = publish_games(session, self.replica_id, games,
                                                 max_message_bytes=self._max_message_bytes)
                for topic, event in outputs:
                    context.enqueue(session, topic, event)
        except (SQLAlchemyError, RetryableError) as error:
            log.warning("could not publish %d finished game(s), retrying: %s", len(games),
                        error)
            return False
        self.unpublished = []
        now = time.monotonic()
        dropped_ids = {id(finished) for finished in dropped}
        for finished in games:
            if id(finished) in dropped_ids:
                DROPPED.labels(finished.config_key).inc()
                continue
            GAMES.labels(finished.config_key).inc()
            POSITIONS.labels(finished.config_key).inc(len(finished.game.moves))
            self._recent.append((now, finished.config_key, len(finished.game.moves)))
            self.published += 1
            self.positions += len(finished.game.moves)
        return True

    def _set_paused(self, reason: str | None) -> None:
        if reason != self.paused:
            if reason and not self.paused:
                log.warning("pausing self-play (%d game(s) in flight wait): %s",
                            len(self.in_flight), reason)
                self._paused_since = time.monotonic()
            elif not reason:
                log.info("resuming self-play after %.0f s (was: %s)",
                         time.monotonic() - self._paused_since, self.paused)
            self.paused = reason
        PAUSED.set(time.monotonic() - self._paused_since if reason else 0)

    def _refresh_gauges(self, now: float) -> None:
        while self._recent and self._recent[0][0] < now - RATE_WINDOW_S:
            self._recent.popleft()
        games: dict[str, int] = dict.fromkeys(self.chooser.default_configs, 0)
        positions = dict(games)
        for _, config_key, moves in self._recent:
            games[config_key] = games.get(config_key, 0) + 1
            positions[config_key] = positions.get(config_key, 0) + moves
        window = max(1.0, min(RATE_WINDOW_S, now - self._born))
        for config_key in games:
            GAMES_RATE.labels(config_key).set(games[config_key] / window)
            POSITIONS_RATE.labels(config_key).set(positions[config_key] / window)
        for config_key, age in self.slots.model_ages().items():
            MODEL_AGE.labels(config_key).set(age)

