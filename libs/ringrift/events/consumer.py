"""The consumer loop every service runs: at-least-once, idempotent, outage-proof.

How a record travels through :class:`ConsumerLoop`:

1. Polled into its partition's queue (:mod:`ringrift.events.partitions`) and decoded.
   Bytes that are no envelope, an unknown type or a wrong schema version can never
   succeed: the record goes to ``<topic>.dlq`` at once.
2. Handled with the records waiting beside it in ONE transaction, a savepoint per record
   (:mod:`ringrift.events.handling`): the handler's effects, its outputs (into the
   outbox, :mod:`ringrift.events.outbox`), its job requests and the event's processed
   id commit together, or not at all. The outbox relay publishes the outputs after the
   commit; nothing waits for the broker inside the transaction.
3. Only then is the record's offset stored (``enable.auto.offset.store`` is off), so the
   offset auto-commit sends is always that of a finished record.

Failures (:mod:`ringrift.events.failures`): poison is dead-lettered at once; an outage
(database, broker, a store away) pauses the partition and is retried with bounded
backoff *without limit*, reported by :meth:`ConsumerLoop.status`; any other handler error
gets ``max_attempts`` attempts, then the dead-letter topic. A partition that waits is
paused at the broker while the consumer keeps polling, so it stays in its group; the
other partitions go on.

Long work runs as jobs (:mod:`ringrift.events.jobs`): the partition waits while its job
runs on a worker thread, and the loop keeps polling. Records polled from a partition that
is then revoked are dropped (its new owner reads them). Assignment is cooperative-sticky;
with ``instance_id`` the consumer is a static member (``group.instance.id``).

Driving it: ``run()`` for simple use, or ``start()``, ``poll_once()`` in the caller's own
loop, ``stop()`` and ``close(grace_s)`` (the service runtime does that).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import FrameType

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka import Message as Record
from sqlalchemy import Engine

import ringrift
from ringrift.errors import PoisonMessage
from ringrift.events import envelope, metrics
from ringrift.events.assignment import Assignment
from ringrift.events.deadletter import DeadLetterSender, DeadLetterWriter
from ringrift.events.dispatch import Dispatcher
from ringrift.events.handling import Handler, Item
from ringrift.events.idempotency import retention_for
from ringrift.events.jobrunner import JobRunner
from ringrift.events.jobs import JobFunction
from ringrift.events.jobscheduler import JobScheduler
from ringrift.events.lag import LagReader
from ringrift.events.maintenance import Pruner
from ringrift.events.partitions import CHECK, OUTAGE, RETRY
from ringrift.events.producer import EventProducer
from ringrift.events.relay import OutboxRelay
from ringrift.events.settings import KafkaSettings
from ringrift.events.status import LoopStatus
from ringrift.events.status import Outage as OutageStatus
from ringrift.events.topics import TopicSpec

log = logging.getLogger(__name__)
_BROKER_ERROR_WINDOW_S = 15.0  # librdkafka repeats a connection error at least this often


class ConsumerLoop:
    """Consume ``topics`` as group ``group``, handling each event with ``handler``.

    Args:
        settings: broker connection, retry policy, batch size, job and retention settings.
        service: the service name (dead-letter headers, client ids).
        group: the consumer group; it also scopes the processed ids and jobs.
        topics: the topics to consume (registry entries, or copies with other names).
        handler: ``handler(event, session)`` returns outputs ``(TopicSpec, Event)`` and
            :class:`~ringrift.events.jobs.JobRequest` items, or None; it never commits.
        engine: the service's database (processed ids, outbox, jobs, the effects).
        jobs: the job functions by kind, for handlers that return job requests.
        relay: the process's outbox relay; without one the loop makes and owns one.
        instance_id: static membership id (e.g. the pod name), or None.
        service_version: written into dead-letter headers.
    """

    def __init__(self, settings: KafkaSettings, *, service: str, group: str,
                 topics: Sequence[TopicSpec], handler: Handler, engine: Engine,
                 jobs: Mapping[str, JobFunction] | None = None,
                 relay: OutboxRelay | None = None, instance_id: str | None = None,
                 service_version: str = ringrift.__version__) -> None:
        self.settings = settings
        self.service = service
        self.group = group
        self.handler = handler
        self.engine = engine
        self._topics = {spec.name: spec for spec in topics}
        self._owns_relay = relay is None
        self.relay = relay or OutboxRelay(engine, settings, client_id=f"{service}-relay")
        letters = DeadLetterSender(
            EventProducer(settings, client_id=f"{service}-dlq"), settings,
            DeadLetterWriter(service=service, group=group, service_version=service_version,
                             max_bytes=settings.max_message_bytes))
        owner = f"{socket.gethostname()}/{os.getpid()}/{instance_id or '-'}"
        self._runner = JobRunner(engine, settings, jobs or {}, group=group, owner=owner)
        self._jobs = JobScheduler(engine, settings, group, self._runner, letters)
        self._dispatch = Dispatcher(engine, settings, group, handler, letters, self._store)
        self._lag = LagReader(settings, group=group, client_id=f"{service}-lag")
        self._pruner = Pruner(engine, group,
                              retention_for(topics, settings.processed_retention_days),
                              timedelta(hours=settings.outbox_retention_hours))
        self._stop = threading.Event()
        self._started = self._closed = False
        self._last_poll_at: datetime | None = None
        self._last_progress_at: datetime | None = None
        self._broker_error: tuple[str, float, datetime] | None = None
        config = settings.client_config() | {
            "group.id": group, "client.id": service, "auto.offset.reset": "earliest",
            # Commit in the background, but only offsets we stored after success.
            "enable.auto.commit": True, "enable.auto.offset.store": False,
            "auto.commit.interval.ms": settings.auto_commit_interval_ms,
            "session.timeout.ms": settings.session_timeout_ms,
            "max.poll.interval.ms": settings.max_poll_interval_ms,
            "partition.assignment.strategy": "cooperative-sticky",
            "error_cb": self._on_error,
        }
        if instance_id:
            config["group.instance.id"] = instance_id
        self._consumer = Consumer(config)
        self._assignment = Assignment(self._consumer, group=group,
                                      batch_size=settings.batch_size, with_jobs=bool(jobs),
                                      stop_jobs=self._runner.cancel)
        self._parts = self._assignment.parts  # the same dict, read on the loop's thread

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Subscribe, start the owned relay and the job workers (idempotent)."""
        if self._started:
            return
        self._started = True
        self._consumer.subscribe(list(self._topics),
                                 on_assign=lambda _c, tps: self._assignment.assign(tps),
                                 on_revoke=self._on_revoke, on_lost=self._on_lost)
        if self._owns_relay:
            self.relay.start()
        self._runner.start()

    def stop(self) -> None:
        """Ask :meth:`run` to return after the current turn (thread-safe)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called (a caller's own loop checks it)."""
        return self._stop.is_set()

    def install_signal_handlers(self) -> None:
        """Stop gracefully on SIGTERM and SIGINT (call from the main thread)."""
        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s: finishing the turn in hand, then leaving the group",
                     signal.Signals(signum).name, extra={"group": self.group})
            self.stop()
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def run(self, max_records: int | None = None) -> int:
        """Consume until :meth:`stop` (or ``max_records`` finished); returns records finished."""
        self.start()
        finished = 0
        try:
            while not self._stop.is_set():
                finished += self.poll_once(0.5)
                if max_records is not None and finished >= max_records:
                    break
        finally:
            self.close()
        return finished

    def close(self, grace_s: float | None = None) -> None:
        """Stop jobs (they checkpoint), drain the owned relay, commit, leave the group.

        Args:
            grace_s: how long jobs and the relay may take (default: the publish timeout).
        """
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + (self.settings.publish_timeout_s if grace_s is None
                                       else grace_s)
        try:
            self._runner.stop(max(0.0, deadline - time.monotonic()))
            self._jobs.drain(self._parts)
            if self._owns_relay:
                self.relay.stop(max(1.0, deadline - time.monotonic()))
        finally:
            if self._started:
                self._commit()
            self._consumer.close()
            self._lag.close()
            log.info("left consumer group", extra={"group": self.group})

    # ---- one turn --------------------------------------------------------------------

    def poll_once(self, timeout_s: float) -> int:
        """Poll (waiting at most ``timeout_s`` when nothing is ready) and handle what is ready.

        Returns:
            Records finished in this turn: handled, skipped as duplicates, dead-lettered.

        Raises:
            KafkaException: a fatal consumer error (the process should exit).
        """
        self.start()
        self._last_poll_at = datetime.now(UTC)
        finished = self._jobs.drain(self._parts)
        self._pruner.maybe_prune()
        self._jobs.check(self._parts)
        now = time.monotonic()
        waits = [p.retry_at - now for p in self._parts.values()
                 if p.queue and p.state in (RETRY, OUTAGE)]
        waits += [p.retry_at - now for p in self._parts.values() if p.state == CHECK]
        ready = any(p.ready(now) for p in self._parts.values())
        wait = 0.0 if ready else max(0.0, min([timeout_s, *waits]))
        self._fetch(wait)
        finished += self._dispatch.work(self._parts, time.monotonic())
        self._assignment.sync_pauses()
        if finished:
            self._last_progress_at = datetime.now(UTC)
        return finished

    def _fetch(self, wait_s: float) -> None:
        first = self._consumer.poll(wait_s)
        if first is None:
            return
        records = [first]
        if self.settings.batch_size > 1:
            records += self._consumer.consume(self.settings.batch_size - 1, timeout=0)
        for record in records:
            error = record.error()
            if error is not None:
                if error.fatal():
                    raise KafkaException(error)
                if error.code() != KafkaError._PARTITION_EOF:
                    self._on_error(error)
                continue
            self._broker_error = None
            part = self._parts.get((record.topic(), record.partition()))
            if part is None:  # revoked inside this poll: its new owner reads it
                continue
            part.queue.append(self._decode(record))

    def _decode(self, record: Record) -> Item:
        topic = self._topics[record.topic()]
        try:
            return Item(record, topic, envelope.decode(record.value(), topic))
        except PoisonMessage as error:
            return Item(record, topic, None, poison=error)

    # ---- partitions, offsets, pausing ----------------------------------------------

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Commit what we finished before another consumer takes these partitions over,
        # so it starts right after our last finished record instead of redoing work.
        self._commit()
        self._assignment.forget(partitions, "revoked")

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Our session expired: another consumer may own these already; committing is moot.
        self._assignment.forget(partitions, "lost")

    def _store(self, offsets: dict[tuple[str, int], int]) -> None:
        """Store offsets (the next record to read) for auto-commit to send."""
        if not offsets:
            return
        self._assignment.finished(offsets)
        try:
            self._consumer.store_offsets(offsets=[TopicPartition(t, p, o)
                                                  for (t, p), o in offsets.items()])
        except KafkaException as error:
            if error.args[0].code() != KafkaError._STATE:  # revoked meanwhile: nothing to do
                raise

    def _commit(self) -> None:
        try:
            self._consumer.commit(asynchronous=False)
        except KafkaException as error:
            if error.args[0].code() != KafkaError._NO_OFFSET:  # nothing new to commit is fine
                log.warning("offset commit failed: %s", error, extra={"group": self.group})

    def _on_error(self, error: KafkaError) -> None:
        """librdkafka's client-level errors (broker down, ...): an outage while they last."""
        if error.fatal():
            log.error("fatal Kafka error: %s", error.str(), extra={"group": self.group})
        since = self._broker_error[2] if self._broker_error else datetime.now(UTC)
        self._broker_error = (f"Kafka: {error.str()}", time.monotonic(), since)

    # ---- status ----------------------------------------------------------------------

    def status(self) -> LoopStatus:
        """A snapshot of the loop (thread-safe); readiness is ``outage is None``."""
        with self._assignment.lock:
            parts = list(self._parts.values())
            paused = tuple(sorted(self._assignment.paused))
        outage: OutageStatus | None = None
        relay = self.relay.status()
        waiting = [p for p in parts if p.state == OUTAGE or (p.state == CHECK and p.failures)]
        if waiting:
            first = min(waiting, key=lambda p: p.since or datetime.now(UTC))
            outage = OutageStatus(first.reason or "outage", first.since or datetime.now(UTC),
                                  tuple(sorted(p.key for p in waiting)))
        elif self._broker_error and (time.monotonic() - self._broker_error[1]
                                     < _BROKER_ERROR_WINDOW_S):
            outage = OutageStatus(self._broker_error[0], self._broker_error[2], ())
        elif relay.outage:
            outage = OutageStatus(f"outbox relay: {relay.outage}",
                                  relay.outage_since or datetime.now(UTC), ())
        metrics.OUTAGE.labels(self.group).set(1 if outage else 0)
        progress = [t for t in (self._last_progress_at, self._runner.last_progress_at()) if t]
        return LoopStatus(
            started=self._started, closed=self._closed,
            assigned=tuple(sorted(p.key for p in parts)), paused=paused, outage=outage,
            last_poll_at=self._last_poll_at, last_progress_at=max(progress, default=None),
            jobs=self._runner.statuses(), records_in_hand=sum(len(p.queue) for p in parts),
            rebalances=self._assignment.rebalances, relay=relay)

    def consumer_lag(self, timeout_s: float = 5.0) -> dict[tuple[str, int], int]:
        """Records not yet finished per assigned partition (high watermark - next offset).

        Callable from another thread (a metrics scrape): asked through a client of its own
        (:mod:`ringrift.events.lag`); sets the ``CONSUMER_LAG`` gauge.
        """
        with self._assignment.lock:
            positions = [(p.key, p.next_offset) for p in self._parts.values()]
        return self._lag.read(positions, timeout_s)
