"""One turn of record work for the consumer loop: dead letters first, then one batch.

:class:`Dispatcher` looks at the queue of every partition that may go on
(:mod:`ringrift.events.partitions`): a head record that can never succeed (poison, or out
of attempts) is dead-lettered; then the records that are ready, a prefix of each queue,
are handled in one transaction (:func:`ringrift.events.handling.handle_batch`). What each
outcome means for its partition:

* handled, skipped as a duplicate, or a job recorded: the record leaves the queue and its
  offset is stored (a job then makes the partition wait for it);
* an outage: the partition waits with bounded backoff and is retried without limit;
* another handler error: the record waits for its next attempt, up to ``max_attempts``;
* the whole transaction failed on an outage: every partition of the batch waits; on
  something else, its records go one per transaction so the culprit shows.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine

from ringrift.events import metrics
from ringrift.events.deadletter import DeadLetterSender, SourceRecord
from ringrift.events.failures import Failure, classify, describe
from ringrift.events.handling import BatchAborted, Handler, Item, Result, handle_batch
from ringrift.events.partitions import CHECK, OUTAGE, RETRY, PartitionState, backoff
from ringrift.events.settings import KafkaSettings

log = logging.getLogger("ringrift.events.consumer")  # one logger for the loop's story
Partitions = dict[tuple[str, int], PartitionState]


class Dispatcher:
    """Handles the ready records of a consumer loop's partitions.

    Args:
        engine: the service's database.
        settings: batch size, attempts, backoff.
        group: the consumer group (processed ids, metrics).
        handler: the service's handler.
        letters: writes dead letters.
        store: stores offsets ``{(topic, partition): next offset}`` for auto-commit.
    """

    def __init__(self, engine: Engine, settings: KafkaSettings, group: str, handler: Handler,
                 letters: DeadLetterSender,
                 store: Callable[[dict[tuple[str, int], int]], None]) -> None:
        self.engine = engine
        self.settings = settings
        self.group = group
        self.handler = handler
        self._letters = letters
        self._store = store

    def work(self, parts: Partitions, now: float) -> int:
        """Dead-letter the heads that must go, then handle one batch; records finished."""
        finished, batch = 0, []
        for part in parts.values():
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
            finished += self._run_batch(parts, batch)
        return finished

    def outage(self, part: PartitionState, error: BaseException | str) -> None:
        """``part`` waits for an outage to pass (retried without limit)."""
        part.outage(error, self.settings.retry_backoff_initial_s,
                    self.settings.retry_backoff_max_s)

    def _must_dead_letter(self, item: Item) -> bool:
        return item.poison is not None or item.attempts >= self.settings.max_attempts

    def _run_batch(self, parts: Partitions, items: list[Item]) -> int:
        try:
            outcomes = handle_batch(self.engine, self.group, self.handler, items)
        except Exception as error:
            self._batch_failed(parts, items, error)
            return 0
        done: list[tuple[Item, Result]] = []
        offsets: dict[tuple[str, int], int] = {}
        for item, outcome in zip(items, outcomes, strict=True):
            part = parts[item.key]
            if outcome.result in (Result.HANDLED, Result.SKIPPED, Result.JOB):
                part.queue.popleft()  # a batch holds a prefix of each queue, in order
                offsets[item.key] = item.record.offset() + 1
                done.append((item, outcome.result))
                if part.state in (RETRY, OUTAGE):
                    part.recover()
                if outcome.result is Result.JOB:
                    part.wait(CHECK, "starting its job", 0.0)
            elif outcome.result is Result.FAILED:
                assert outcome.error is not None
                self._handler_failed(part, item, outcome.error)
        self._store(offsets)
        self._count(done)
        return len(done)

    def _batch_failed(self, parts: Partitions, items: list[Item], error: BaseException) -> None:
        """The transaction as a whole failed: an outage, or a record that breaks the commit."""
        metrics.HANDLER_FAILURES.labels(items[0].topic.name, self.group,
                                        type(error).__name__).inc()
        if classify(error) is Failure.OUTAGE:
            for key in {item.key for item in items}:
                self.outage(parts[key], error)
            return
        if len(items) == 1:  # a racing consumer recorded the id first: skipped next time
            cause = error.__cause__ if isinstance(error, BatchAborted) else None
            self._handler_failed(parts[items[0].key], items[0], cause or error)
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
            self.outage(part, error)
            return
        item.last_error = error
        if failure is Failure.POISON:
            item.poison = error
        else:
            item.attempts += 1
        final = self._must_dead_letter(item)
        log.warning("handler failed (attempt %d of %d, %s): %s", item.attempts,
                    self.settings.max_attempts, "giving up" if final else "will retry",
                    describe(error), extra=context(self.group, item),
                    exc_info=error if final and failure is not Failure.POISON else None)
        part.wait(RETRY, describe(error), 0.0 if final else backoff(
            self.settings.retry_backoff_initial_s, self.settings.retry_backoff_max_s,
            item.attempts))

    def _dead_letter(self, part: PartitionState, item: Item) -> bool:
        """Write ``item``'s dead letter; False (the partition waits as in an outage) if not."""
        error = item.poison or item.last_error or RuntimeError("unknown failure")
        problem = self._letters.send(SourceRecord.of(item.record), error, max(item.attempts, 1))
        if problem is not None:
            part.queue.appendleft(item)
            self.outage(part, problem)
            return False
        metrics.DEAD_LETTERED.labels(item.topic.name, self.group).inc()
        metrics.EVENTS_CONSUMED.labels(item.topic.name, self.group).inc()
        self._store({item.key: item.record.offset() + 1})
        if part.state in (RETRY, OUTAGE):
            # What the partition waited on left with the letter: it must not stay paused
            # when no record is queued behind it (the next one arrives later).
            part.recover()
        log.error("dead-lettered record to %s: %s", item.topic.dlq_name, describe(error),
                  extra=context(self.group, item))
        return True

    def _count(self, items: list[tuple[Item, Result]]) -> None:
        """The metrics of a batch's finished records (label lookups once per batch)."""
        consumed: Counter[str] = Counter()
        lag = metrics.HANDLING_LAG.labels(self.group)
        now = datetime.now(UTC)
        for item, result in items:
            assert item.event is not None
            consumed[item.topic.name] += 1
            if result is Result.SKIPPED:
                metrics.DUPLICATES_SKIPPED.labels(item.topic.name, self.group).inc()
                log.info("skipped already processed event %s", item.event.event_id,
                         extra={"group": self.group, "topic": item.topic.name})
            else:
                lag.observe(max((now - item.event.produced_at).total_seconds(), 0.0))
        for topic, count in consumed.items():
            metrics.EVENTS_CONSUMED.labels(topic, self.group).inc(count)


def context(group: str, item: Item) -> dict[str, object]:
    """Log fields naming a record."""
    fields: dict[str, object] = {
        "group": group, "topic": item.record.topic(), "partition": item.record.partition(),
        "offset": item.record.offset()}
    if item.event is not None:
        fields |= {"event_id": item.event.event_id, "config": item.event.config_key}
    return fields
