"""The shard writer: decides when a queue's shard is due and builds it, a step at a time.

It runs on the service's processing thread, between polls of the consumer (the runtime's
*source* hook), so a shard build never races the handler and the consumer keeps being
polled while the build goes on: each :meth:`ShardWriter.step` replays and encodes games for
at most ``--build-step-s``, then returns. A queue is due when it holds ``--shard-samples``
samples (the handler tells the writer each game's samples, :meth:`ShardWriter.add`, so it
knows the moment a queue gets there) or its oldest pending game has waited
``--max-delay-s`` (found by :meth:`ShardWriter.check`, the runtime's timer hook, which also
refreshes the pending gauges and the writer's counts from the database). The counts kept in
memory only decide when to look: a build starts after the database confirms the trigger. Only queues of configs whose partitions this
replica consumes are built, so replicas do not race for them.

A finished build is written to the artifact store, its rejected self-play games are
dead-lettered, and then shard, memberships and ``ShardWritten`` commit in one transaction
(:func:`shards.commit`). A kill anywhere loses only the build in memory: the games are still
pending in the database and the next build takes them again. An outage (database, store,
broker) keeps the build and retries with backoff; any other failure drops it, retries later
and shows on ``/readyz`` until a build succeeds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ringrift.configs import ALL_CONFIGS
from ringrift.events.failures import Failure, classify, describe
from ringrift.events.outbox import Output
from ringrift.events.producer import partition_for_key
from ringrift.events.topics import TopicSpec
from ringrift.service.hooks import SourceContext
from ringrift.storage.artifacts import ArtifactRef, ArtifactStore
from ringrift.storage.database import session_scope
from services.exporter import metrics, shards
from services.exporter.games import Pending, pending
from services.exporter.letters import LateDeadLetters
from services.exporter.settings import ExporterSettings
from services.exporter.shards import Build, QueueKey
from services.exporter.tables import Origin

log = logging.getLogger(__name__)
Owned = Callable[[], Collection[str] | None]
"""The configs this replica builds shards of (None: all)."""
_BACKOFF_MAX_S = 30.0


class ShardWriter:
    """Builds the due shards of one exporter process (see the module docstring)."""

    def __init__(self, engine: Engine, store: ArtifactStore, settings: ExporterSettings, *,
                 dead_letters: LateDeadLetters | None = None, owned: Owned = lambda: None
                 ) -> None:
        self.engine, self.store, self.settings = engine, store, settings
        self.dead_letters, self.owned = dead_letters, owned
        self._due: dict[QueueKey, None] = {}  # an ordered set: first woken, first built
        self._pending: dict[QueueKey, int] = {}  # samples, as of the last check plus adds
        self._build: Build | None = None
        self._ref: ArtifactRef | None = None
        self._failures = 0
        self._retry_at = 0.0
        self._problem: str | None = None

    def wake(self, key: QueueKey) -> None:
        """``key``'s queue may be due: look at it on the next step."""
        self._due[key] = None

    def add(self, key: QueueKey, samples: int) -> None:
        """A game with ``samples`` samples joined ``key``'s queue (the handler says so)."""
        total = self._pending.get(key, 0) + samples
        self._pending[key] = total
        if total >= self.settings.shard_samples:
            self.wake(key)

    def problem(self) -> str | None:
        """Readiness: why shards are not being written, or None."""
        return self._problem

    # ---- the timer hook ----------------------------------------------------------------

    def check(self, session: Session) -> list[Output]:
        """Wake every queue that is due; refresh the pending gauges and counts. Publishes
        nothing."""
        now = datetime.now(UTC)
        waiting = pending(session)
        for key in set(self._pending) - {QueueKey(*labels) for labels in waiting}:
            self._pending[key] = 0
            metrics.PENDING_SAMPLES.labels(key.config_key, key.origin).set(0)
            metrics.PENDING_GAMES.labels(key.config_key, key.origin).set(0)
            metrics.OLDEST_PENDING.labels(key.config_key, key.origin).set(0)
        for labels, queue in waiting.items():
            key = QueueKey(*labels)
            self._pending[key] = queue.samples
            metrics.PENDING_SAMPLES.labels(*labels).set(queue.samples)
            metrics.PENDING_GAMES.labels(*labels).set(queue.games)
            metrics.OLDEST_PENDING.labels(*labels).set(
                max(0.0, (now - queue.oldest_stored_at).total_seconds()))
            if self._trigger(queue, now) is not None:
                self.wake(key)
        return []

    # ---- the source hook ---------------------------------------------------------------

    def step(self, context: SourceContext) -> int:
        """One unit of shard work (start, advance or finish a build); 0 when none is due."""
        if time.monotonic() < self._retry_at:
            return 0
        try:
            if self._build is None:
                self._build = self._start()
                if self._build is None:
                    return 0
            if not self._build.done:
                self._build.advance(time.monotonic() + self.settings.build_step_s)
                context.beat()
                return 1
            self._finish(context)
        except Exception as error:  # never let a shard failure stop the service
            self._failed(error)
        return 1

    def _start(self) -> Build | None:
        if not self._due:
            return None
        owned = self.owned()
        now = datetime.now(UTC)
        while self._due:
            key = next(iter(self._due))
            del self._due[key]
            if owned is not None and key.config_key not in owned:
                continue
            with session_scope(self.engine, read_only=True) as session:
                queue = pending(session, key.config_key, key.origin).get(
                    (key.config_key, key.origin))
                self._pending[key] = queue.samples if queue else 0
                trigger = None if queue is None else self._trigger(queue, now)
                if trigger is None:
                    continue
                window = shards.take_window(session, key, self.settings.shard_samples)
            if window:
                log.info("building a %s shard of %d pending %s game(s) (%s)", key.config_key,
                         len(window), key.origin, trigger)
                return Build(key, trigger, window)
        return None

    def _trigger(self, queue: Pending, now: datetime) -> str | None:
        if queue.games <= 0:
            return None
        if queue.samples >= self.settings.shard_samples:
            return "samples"
        if queue.oldest_stored_at <= now - timedelta(seconds=self.settings.max_delay_s):
            return "max_delay"
        return None

    def _finish(self, context: SourceContext) -> None:
        build = self._build
        assert build is not None
        if self._ref is None and build.samples:
            self._ref = shards.write_artifact(build, self.store)
        if self.dead_letters is not None and build.key.origin == Origin.SELFPLAY:
            self.dead_letters.send([(build.key.config_key, game.content, reason)
                                    for game, reason in build.rejected])
        try:
            with context.transaction() as session:
                committed = shards.commit(session, build, self._ref,
                                          consumer_group=self.settings.consumer_group)
                for topic, event in committed.outputs:
                    context.enqueue(session, topic, event)
        except shards.WindowTaken as error:
            log.warning("%s; building again", error)
            self._reset()
            self.wake(build.key)
            return
        self._reset()
        self._failures, self._problem = 0, None
        self._pending[build.key] = max(0, self._pending.get(build.key, 0) - sum(
            game.num_samples for game in build.games))
        self.wake(build.key)  # more may be due already
        config = build.key.config_key
        metrics.BUILD_SECONDS.labels(config).observe(build.seconds)
        if build.rejected:
            metrics.GAMES_REJECTED.labels(config).inc(len(build.rejected))
            log.warning("set aside %d game(s) of %s that do not replay: %s", len(build.rejected),
                        config, "; ".join(reason for _, reason in build.rejected[:3]))
        for _, event in committed.outputs:
            written = event.payload
            metrics.SHARDS_WRITTEN.labels(config, build.trigger).inc()
            metrics.SAMPLES_WRITTEN.labels(config).inc(written.num_samples)
            latency = (event.produced_at - committed.newest_produced_at).total_seconds()
            metrics.STAGE_LATENCY.labels(config).observe(max(0.0, latency))
            log.info("shard %s: %d sample(s) of %d game(s), %s", written.shard_id,
                     written.num_samples, written.num_games, written.shard.uri)

    def _failed(self, error: BaseException) -> None:
        build = self._build
        config = build.key.config_key if build else "?"
        self._failures += 1
        delay = min(_BACKOFF_MAX_S, 0.5 * 2 ** (self._failures - 1))
        self._retry_at = time.monotonic() + delay
        if classify(error) is Failure.OUTAGE:
            metrics.WRITE_FAILURES.labels(config, "outage").inc()
            self._problem = f"cannot write the {config} shard, retrying: {describe(error)}"
            log.warning("%s (in %.1f s)", self._problem, delay)
            return
        metrics.WRITE_FAILURES.labels(config, "error").inc()
        self._problem = f"the {config} shard build failed, retrying: {describe(error)}"
        log.exception("%s (in %.1f s)", self._problem, delay)
        if build is not None:
            self.wake(build.key)
        self._reset()

    def _reset(self) -> None:
        self._build, self._ref = None, None


def owned_configs(assigned: Collection[tuple[str, int]], topic: TopicSpec) -> set[str]:
    """The configs whose partitions of ``topic`` are among ``assigned`` (topic, partition)."""
    partitions = {partition for name, partition in assigned if name == topic.name}
    return {config.key for config in ALL_CONFIGS
            if partition_for_key(topic, config.key) in partitions}
