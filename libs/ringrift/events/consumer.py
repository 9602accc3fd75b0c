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
import queue
import signal
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import FrameType

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka import Message as Record
from sqlalchemy import Engine

import ringrift
from ringrift.errors import PoisonMessage
from ringrift.events import envelope, jobstore, metrics
from ringrift.events.deadletter import DeadLetterWriter, SourceRecord
from ringrift.events.failures import Failure, classify, describe
from ringrift.events.handling import Handler, Item, Result, handle_batch
from ringrift.events.idempotency import prune_processed, retention_for
from ringrift.events.jobrunner import JobOutcome, JobRunner, Outcome
from ringrift.events.jobs import JobFunction
from ringrift.events.partitions import CHECK, JOB, OUTAGE, READY, RETRY, PartitionState, backoff
from ringrift.events.producer import EventProducer, RawRecord
from ringrift.events.relay import OutboxRelay
from ringrift.events.settings import KafkaSettings
from ringrift.events.status import LoopStatus
from ringrift.events.status import Outage as OutageStatus
from ringrift.events.topics import TopicSpec

log = logging.getLogger(__name__)
_SIZE_ERRORS = frozenset({KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.INVALID_MSG_SIZE})
_BROKER_ERROR_WINDOW_S = 15.0  # librdkafka repeats a connection error at least this often
_PRUNE_INTERVAL_S = 3600.0


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
        self._producer = EventProducer(settings, client_id=f"{service}-dlq")
        self._letters = DeadLetterWriter(service=service, group=group,
                                         service_version=service_version,
                                         max_bytes=settings.max_message_bytes)
        owner = f"{socket.gethostname()}/{os.getpid()}/{instance_id or '-'}"
        self._runner = JobRunner(engine, settings, jobs or {}, group=group, owner=owner)
        self._retention = retention_for(topics, settings.processed_retention_days)
        self._parts: dict[tuple[str, int], PartitionState] = {}
        self._paused: set[tuple[str, int]] = set()
        self._failed_jobs: list[JobOutcome] = []
        self._dead_letter_topics: set[str] = set()  # known to exist
        self._lock = threading.Lock()  # guards what status() and consumer_lag() read
        self._lag_lock = threading.Lock()  # consumer_lag()'s own client, against close()
        self._lag_client: Consumer | None = None
        self._stop = threading.Event()
        self._started = self._closed = False
        self._rebalances = 0
        self._last_poll_at: datetime | None = None
        self._last_progress_at: datetime | None = None
        self._broker_error: tuple[str, float, datetime] | None = None
        self._next_prune = 0.0
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

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Subscribe, start the owned relay and the job workers (idempotent)."""
        if self._started:
            return
        self._started = True
        self._consumer.subscribe(list(self._topics), on_assign=self._on_assign,
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
            self._drain_outcomes()
            if self._owns_relay:
                self.relay.stop(max(1.0, deadline - time.monotonic()))
        finally:
            if self._started:
                self._commit()
            self._consumer.close()
            with self._lag_lock:
                if self._lag_client is not None:
                    self._lag_client.close()
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
        finished = self._drain_outcomes()
        self._maintain()
        self._check_jobs()
        now = time.monotonic()
        waits = [p.retry_at - now for p in self._parts.values()
                 if p.queue and p.state in (RETRY, OUTAGE)]
        waits += [p.retry_at - now for p in self._parts.values() if p.state == CHECK]
        ready = any(p.ready(now) for p in self._parts.values())
        wait = 0.0 if ready else max(0.0, min([timeout_s, *waits]))
        self._fetch(wait)
        finished += self._work()
        self._sync_pauses()
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

    # ---- handling --------------------------------------------------------------------

    def _work(self) -> int:
        """Dead-letter the heads that must go, then handle one batch of ready records."""
        now, finished, batch = time.monotonic(), 0, []
        for part in self._parts.values():
            while part.ready(now) and self._must_dead_letter(part.queue[0]):
                if not self._dead_letter(part, part.queue.popleft()):
                    break
                finished += 1
            if not part.ready(now) or len(batch) >= self.settings.batch_size:
                continue
            for item in part.queue:
                if (self._must_dead_letter(item) or len(batch) >= self.settings.batch_size
                        or (item.solo and batch) or (batch and batch[0].solo)):
                    break
                batch.append(item)
        if batch:
            finished += self._run_batch(batch)
        return finished

    def _must_dead_letter(self, item: Item) -> bool:
        return item.poison is not None or item.attempts >= self.settings.max_attempts

    def _run_batch(self, items: list[Item]) -> int:
        try:
            outcomes = handle_batch(self.engine, self.group, self.handler, items)
        except Exception as error:
            self._batch_failed(items, error)
            return 0
        finished, offsets = 0, {}
        for item, outcome in zip(items, outcomes, strict=True):
            part = self._parts[item.key]
            if outcome.result in (Result.HANDLED, Result.SKIPPED, Result.JOB):
                part.queue.popleft()
                offsets[item.key] = item.record.offset() + 1
                finished += 1
                self._count(item, outcome.result)
                if part.state in (RETRY, OUTAGE):
                    part.recover()
                if outcome.result is Result.JOB:
                    part.wait(CHECK, "starting its job", 0.0)
            elif outcome.result is Result.FAILED:
                assert outcome.error is not None
                self._handler_failed(part, item, outcome.error)
        self._store(offsets)
        return finished

    def _batch_failed(self, items: list[Item], error: BaseException) -> None:
        """The transaction as a whole failed: an outage, or a record that breaks the commit."""
        metrics.HANDLER_FAILURES.labels(items[0].topic.name, self.group,
                                        type(error).__name__).inc()
        if classify(error) is Failure.OUTAGE:
            for key in {item.key for item in items}:
                self._outage(self._parts[key], error)
            return
        if len(items) == 1:  # a racing consumer recorded the id first: skipped next time
            self._handler_failed(self._parts[items[0].key], items[0], error)
            return
        # A racing consumer recorded an id first (skipped on the next try), or a failure
        # at commit that names no record: go one record at a time to find the culprit.
        log.info("batch of %d failed (%s); handling one at a time", len(items),
                 describe(error), extra={"group": self.group})
        for item in items:
            item.solo = True

    def _handler_failed(self, part: PartitionState, item: Item, error: BaseException) -> None:
        metrics.HANDLER_FAILURES.labels(item.topic.name, self.group, type(error).__name__).inc()
        failure = classify(error)
        if failure is Failure.OUTAGE:
            self._outage(part, error)
            return
        item.last_error = error
        if failure is Failure.POISON:
            item.poison = error
        else:
            item.attempts += 1
        final = self._must_dead_letter(item)
        log.warning("handler failed (attempt %d of %d, %s): %s", item.attempts,
                    self.settings.max_attempts, "giving up" if final else "will retry",
                    describe(error), extra=self._context(item),
                    exc_info=error if final and failure is not Failure.POISON else None)
        part.wait(RETRY, describe(error), 0.0 if final else backoff(
            self.settings.retry_backoff_initial_s, self.settings.retry_backoff_max_s,
            item.attempts))

    def _outage(self, part: PartitionState, error: BaseException) -> None:
        part.failures += 1
        if part.state != OUTAGE:
            log.warning("outage, retrying without limit: %s", describe(error),
                        extra={"group": self.group, "topic": part.topic,
                               "partition": part.partition})
        part.wait(OUTAGE, describe(error), backoff(self.settings.retry_backoff_initial_s,
                                                    self.settings.retry_backoff_max_s,
                                                    part.failures))

    def _count(self, item: Item, result: Result) -> None:
        metrics.EVENTS_CONSUMED.labels(item.topic.name, self.group).inc()
        assert item.event is not None
        if result is Result.SKIPPED:
            metrics.DUPLICATES_SKIPPED.labels(item.topic.name, self.group).inc()
            log.info("skipped already processed event %s", item.event.event_id,
                     extra={"group": self.group, "topic": item.topic.name})
        else:
            lag = (datetime.now(UTC) - item.event.produced_at).total_seconds()
            metrics.HANDLING_LAG.labels(self.group).observe(max(lag, 0.0))

    # ---- dead letters ----------------------------------------------------------------

    def _dead_letter(self, part: PartitionState, item: Item) -> bool:
        """Write ``item``'s dead letter; False (the partition waits as in an outage) if not."""
        error = item.poison or item.last_error or RuntimeError("unknown failure")
        attempts = max(item.attempts, 1)
        if not self._send_letter(part, SourceRecord.of(item.record), error, attempts):
            part.queue.appendleft(item)
            return False
        metrics.DEAD_LETTERED.labels(item.topic.name, self.group).inc()
        metrics.EVENTS_CONSUMED.labels(item.topic.name, self.group).inc()
        self._store({item.key: item.record.offset() + 1})
        log.error("dead-lettered record to %s: %s", item.topic.dlq_name, describe(error),
                  extra=self._context(item))
        return True

    def _send_letter(self, part: PartitionState, source: SourceRecord,
                     error: BaseException | str, attempts: int) -> bool:
        letter = self._letters.letter(source, error, attempts)
        if letter.topic not in self._dead_letter_topics:
            # Sending to a missing topic fails only after librdkafka's metadata wait (30 s),
            # and every retry would queue another copy: ask first.
            exists = self._producer.topic_exists(letter.topic, self.settings.connect_timeout_s)
            if not exists:
                self._outage(part, RuntimeError(
                    f"dead-letter topic {letter.topic} does not exist; create it with "
                    "`ringrift events topics create`" if exists is False else
                    f"no broker answered about {letter.topic}"))
                return False
            self._dead_letter_topics.add(letter.topic)
        failure = self._deliver(letter)
        if failure is not None and failure.code() in _SIZE_ERRORS:
            log.warning("dead letter of %s[%d]@%d too large (%s); writing it without its "
                        "value", source.topic, source.partition, source.offset, failure.str())
            failure = self._deliver(self._letters.minimal(source, error, attempts))
        if failure is None:
            return True
        self._dead_letter_topics.discard(letter.topic)  # ask again next time: deleted?
        self._outage(part, RuntimeError(f"cannot write the dead letter to {letter.topic}: "
                                        f"{failure.str()} ({failure.name()})"))
        return False

    def _deliver(self, record: RawRecord) -> KafkaError | None:
        # Bounded well below max.poll.interval.ms: the loop must poll again in time.
        timeout = min(self.settings.publish_timeout_s, self.settings.max_poll_interval_ms / 3000)
        delivery = self._producer.send([record])
        if not delivery.wait(timeout):
            return KafkaError(KafkaError._MSG_TIMED_OUT,
                              f"not acknowledged within {timeout:.0f} s")
        failures = delivery.failures()
        return failures[0][1] if failures else None

    # ---- jobs ------------------------------------------------------------------------

    def _check_jobs(self) -> None:
        """Partitions just assigned or whose job ended: run (or wait for) unfinished jobs."""
        now = time.monotonic()
        for part in list(self._parts.values()):
            if part.state != CHECK or not part.due(now):
                continue
            try:
                pending = jobstore.unfinished(self.engine, self.group, part.topic,
                                              part.partition)
                if not pending:
                    part.recover()
                    continue
                job = pending[0]
                if self._runner.owns(job.job_id):  # ours, still stopping: wait for it
                    part.wait(CHECK, f"job {job.job_id} stopping", 0.5)
                    continue
                claimed = jobstore.claim(self.engine, job.job_id, self._runner.owner,
                                         self.settings.job_lease_s)
            except Exception as error:
                part.failures += 1
                part.wait(CHECK, f"looking for jobs: {describe(error)}", backoff(
                    self.settings.retry_backoff_initial_s, self.settings.retry_backoff_max_s,
                    part.failures))
                continue
            if claimed is None:
                part.wait(CHECK, f"job {job.job_id} runs elsewhere ({job.owner}); waiting for"
                          " it to end or its lease to run out",
                          min(2.0, self.settings.job_lease_s / 4))
                continue
            part.failures, part.job_id = 0, claimed.job_id
            part.wait(JOB, f"job {claimed.job_id} ({claimed.kind}) running", 0.0)
            self._runner.submit(claimed)
            metrics.JOBS_RUNNING.labels(self.group).inc()

    def _drain_outcomes(self) -> int:
        """Act on jobs that ended: resume their partitions, dead-letter failed jobs' inputs."""
        finished = 0
        while True:
            try:
                self._failed_jobs.append(self._runner.outcomes.get_nowait())
                metrics.JOBS_RUNNING.labels(self.group).dec()
            except queue.Empty:
                break
        pending, self._failed_jobs = self._failed_jobs, []
        for done in pending:
            job = done.job
            part = self._parts.get((job.topic, job.partition))
            if done.outcome is Outcome.FAILED and part is not None:
                source = SourceRecord(job.topic, job.partition, job.offset, job.source_key,
                                      job.source_value, (), job.source_timestamp_ms)
                if not self._send_letter(part, source, done.error or "job failed",
                                         max(job.attempts, 1)):
                    self._failed_jobs.append(done)  # retried on a later turn
                    continue
                try:
                    jobstore.mark_failed(self.engine, job.job_id, done.error or "failed")
                except Exception as error:  # the next owner dead-letters it again: harmless
                    log.warning("could not mark job %s failed: %s", job.job_id, describe(error))
                metrics.DEAD_LETTERED.labels(job.topic, self.group).inc()
            if done.outcome in (Outcome.DONE, Outcome.FAILED):
                metrics.JOBS_FINISHED.labels(self.group, job.kind, done.outcome.value).inc()
                finished += 1
            log.info("job %s %s", job.job_id, done.outcome.value,
                     extra={"group": self.group, "job_kind": job.kind})
            if part is not None and part.job_id == job.job_id:
                part.job_id = None
                part.wait(CHECK, "looking for further jobs", 0.0)
        return finished

    # ---- partitions, offsets, pausing ----------------------------------------------

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # A group without job kinds has no jobs to look for: its partitions start ready.
        state = CHECK if self._runner.functions else READY
        with self._lock:
            for tp in partitions:
                self._parts[(tp.topic, tp.partition)] = PartitionState(tp.topic, tp.partition,
                                                                       state=state)
            self._rebalances += 1
        log.info("partitions assigned: %s", _describe(partitions), extra={"group": self.group})

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Commit what we finished before another consumer takes these partitions over,
        # so it starts right after our last finished record instead of redoing work.
        self._commit()
        self._forget(partitions, "revoked")

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Our session expired: another consumer may own these already; committing is moot.
        self._forget(partitions, "lost")

    def _forget(self, partitions: list[TopicPartition], how: str) -> None:
        dropped, jobs = 0, set()
        with self._lock:
            for tp in partitions:
                part = self._parts.pop((tp.topic, tp.partition), None)
                self._paused.discard((tp.topic, tp.partition))
                if part is not None:
                    dropped += len(part.queue)
                    if part.job_id:
                        jobs.add(part.job_id)
            self._rebalances += 1
        self._runner.cancel(jobs)
        log.info("partitions %s: %s (%d polled record(s) dropped, %d job(s) stopping)", how,
                 _describe(partitions), dropped, len(jobs), extra={"group": self.group})

    def _sync_pauses(self) -> None:
        """Pause partitions that wait (or hold a full queue), resume the others."""
        wanted = {key for key, part in self._parts.items()
                  if part.state != READY or len(part.queue) >= self.settings.batch_size}
        pause, resume = wanted - self._paused, self._paused - wanted
        if pause:
            self._consumer.pause([TopicPartition(t, p) for t, p in pause])
        if resume:
            self._consumer.resume([TopicPartition(t, p) for t, p in resume])
        with self._lock:
            self._paused = wanted

    def _store(self, offsets: dict[tuple[str, int], int]) -> None:
        """Store offsets (the next record to read) for auto-commit to send."""
        if not offsets:
            return
        for key, offset in offsets.items():
            if key in self._parts:
                self._parts[key].next_offset = offset
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

    def _maintain(self) -> None:
        """Prune processed ids past their retention, about hourly."""
        if self._retention is None or time.monotonic() < self._next_prune:
            return
        self._next_prune = time.monotonic() + _PRUNE_INTERVAL_S
        try:
            pruned = prune_processed(self.engine, self.group,
                                     datetime.now(UTC) - self._retention)
        except Exception as error:  # retried at the next interval
            log.warning("pruning processed ids failed: %s", describe(error))
            return
        if pruned:
            log.info("pruned %d processed id(s) older than %s", pruned, self._retention,
                     extra={"group": self.group})

    def _on_error(self, error: KafkaError) -> None:
        """librdkafka's client-level errors (broker down, ...): an outage while they last."""
        if error.fatal():
            log.error("fatal Kafka error: %s", error.str(), extra={"group": self.group})
        since = self._broker_error[2] if self._broker_error else datetime.now(UTC)
        self._broker_error = (f"Kafka: {error.str()}", time.monotonic(), since)

    # ---- status ----------------------------------------------------------------------

    def status(self) -> LoopStatus:
        """A snapshot of the loop (thread-safe); readiness is ``outage is None``."""
        with self._lock:
            parts = list(self._parts.values())
            paused = tuple(sorted(self._paused))
        outage: OutageStatus | None = None
        waiting = [p for p in parts if p.state == OUTAGE and p.queue]
        if waiting:
            first = min(waiting, key=lambda p: p.since or datetime.now(UTC))
            outage = OutageStatus(first.reason or "outage", first.since or datetime.now(UTC),
                                  tuple(sorted(p.key for p in waiting)))
        elif self._broker_error and (time.monotonic() - self._broker_error[1]
                                     < _BROKER_ERROR_WINDOW_S):
            outage = OutageStatus(self._broker_error[0], self._broker_error[2], ())
        elif self.relay.status().outage:
            relay = self.relay.status()
            outage = OutageStatus(f"outbox relay: {relay.outage}",
                                  relay.outage_since or datetime.now(UTC), ())
        metrics.OUTAGE.labels(self.group).set(1 if outage else 0)
        return LoopStatus(
            started=self._started, closed=self._closed,
            assigned=tuple(sorted(p.key for p in parts)), paused=paused, outage=outage,
            last_poll_at=self._last_poll_at, last_progress_at=self._last_progress_at,
            jobs=self._runner.statuses(), records_in_hand=sum(len(p.queue) for p in parts),
            rebalances=self._rebalances, relay=self.relay.status())

    def consumer_lag(self, timeout_s: float = 5.0) -> dict[tuple[str, int], int]:
        """Records not yet finished per assigned partition (high watermark - next offset).

        Callable from another thread (a metrics scrape): it asks the broker through a
        client of its own (a librdkafka consumer must not be called from two threads at
        once), never joins the group, and sets the ``CONSUMER_LAG`` gauge.
        """
        with self._lock:
            parts = [(p.key, p.next_offset) for p in self._parts.values()]
        lags: dict[tuple[str, int], int] = {}
        with self._lag_lock:
            if self._closed:
                return {}
            if self._lag_client is None:
                self._lag_client = Consumer(self.settings.client_config() | {
                    "group.id": self.group, "client.id": f"{self.service}-lag",
                    "enable.auto.commit": False})
            for (topic, partition), next_offset in parts:
                tp = TopicPartition(topic, partition)
                try:
                    low, high = self._lag_client.get_watermark_offsets(tp, timeout=timeout_s)
                    if next_offset is None:  # nothing finished yet: where the group stands
                        [committed] = self._lag_client.committed([tp], timeout=timeout_s)
                        next_offset = committed.offset if committed.offset >= 0 else low
                except KafkaException as error:  # broker away: no figure this time
                    log.debug("no lag for %s[%d]: %s", topic, partition, error)
                    continue
                lags[(topic, partition)] = max(0, high - max(next_offset, low))
                metrics.CONSUMER_LAG.labels(self.group, topic, str(partition)).set(
                    lags[(topic, partition)])
        return lags

    def _context(self, item: Item) -> dict[str, object]:
        context: dict[str, object] = {
            "group": self.group, "topic": item.record.topic(),
            "partition": item.record.partition(), "offset": item.record.offset()}
        if item.event is not None:
            context |= {"event_id": item.event.event_id, "config": item.event.config_key}
        return context


def _describe(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "none"
