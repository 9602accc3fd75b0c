"""The consumer loop every service runs: at-least-once, idempotent, dead-lettering.

How one record travels through :class:`ConsumerLoop`:

1. Decode the envelope. Bytes that are no envelope, an unknown event type or a wrong
   schema version can never succeed: the record goes to ``<topic>.dlq`` at once.
2. In ONE database transaction: skip the event if its id is recorded as processed by
   this group; otherwise run the handler (its effects go through the same session),
   publish the events it returns and wait for their acknowledgements, record the
   event id, commit. A crash anywhere before the commit undoes the effects and the
   record comes again; a crash after it leaves the id recorded, so the repeat is
   skipped. Re-published outputs carry the same derived ids, so the next stage skips
   them too.
3. Only then store the record's offset. ``enable.auto.offset.store`` is off, so the
   offset that auto-commit sends to the broker is always that of a handled record:
   a record is never marked consumed before its effects are durable (at-least-once).
4. A failing handler is retried with bounded exponential backoff; a
   :class:`~ringrift.errors.PoisonMessage`, or any error after the last attempt,
   sends the record to the dead-letter topic and the loop moves on.

Records waiting together are handled in one transaction (fast); if any of them
fails, the transaction is rolled back and they are handled one at a time, so the
failing one is isolated and the others are still handled, in order.

If the broker cannot take an output or a dead letter within the publish timeout, the
loop raises and the process exits without storing that record's offset; after a
restart (by the orchestrator) the record comes again.

Stopping: :meth:`ConsumerLoop.stop` (SIGTERM, once :meth:`install_signal_handlers` is
called) lets the records in hand finish, commits their offsets and leaves the group.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka import Message as Record
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ringrift.errors import PoisonMessage
from ringrift.events import envelope, metrics
from ringrift.events.deadletter import DeadLetterWriter
from ringrift.events.envelope import Event
from ringrift.events.idempotency import already_processed, mark_processed, processed_among
from ringrift.events.producer import EventProducer
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import TopicSpec
from ringrift.storage.database import session_scope

log = logging.getLogger(__name__)

Output = tuple[TopicSpec, Event[Any]]
Handler = Callable[[Event[Any], Session], Iterable[Output] | None]
"""A handler gets the decoded event and the session of the transaction its effects go
into, and returns the events to publish (or None). It never touches Kafka."""


@dataclass
class _Item:
    record: Record
    topic: TopicSpec
    event: Event[Any] | None = None
    error: BaseException | None = None
    skipped: bool = False


class ConsumerLoop:
    """Consume ``topics`` as consumer group ``group``, handling each event with ``handler``.

    Args:
        settings: broker connection, retry policy, batch size.
        service: the service name, written into dead-letter headers.
        group: the consumer group; it also scopes the processed-event ids.
        topics: the topics to consume (registry entries, or copies with other names).
        handler: the function that handles one decoded event.
        engine: the service's own database, holding ``processed_events`` and the
            handler's effects.
        producer: publishes outputs and dead letters; one is made if not given.
    """

    def __init__(self, settings: KafkaSettings, *, service: str, group: str,
                 topics: Sequence[TopicSpec], handler: Handler, engine: Engine,
                 producer: EventProducer | None = None) -> None:
        self.settings = settings
        self.service = service
        self.group = group
        self.handler = handler
        self.engine = engine
        self._topics = {spec.name: spec for spec in topics}
        self._producer = producer or EventProducer(settings, client_id=service)
        self._dead_letters = DeadLetterWriter(self._producer, service=service, group=group)
        self._stop = threading.Event()
        self._consumer = Consumer(settings.client_config() | {
            "group.id": group,
            "client.id": service,
            "auto.offset.reset": "earliest",
            # Commit in the background, but only offsets we stored after success.
            "enable.auto.commit": True,
            "enable.auto.offset.store": False,
            "auto.commit.interval.ms": settings.auto_commit_interval_ms,
            "session.timeout.ms": settings.session_timeout_ms,
        })

    # ---- lifecycle -------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to finish the records in hand, commit and leave (thread-safe)."""
        self._stop.set()

    def install_signal_handlers(self) -> None:
        """Stop gracefully on SIGTERM and SIGINT (call from the main thread)."""
        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s: finishing the records in hand, then leaving the group",
                     signal.Signals(signum).name, extra={"group": self.group})
            self.stop()
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def run(self, max_records: int | None = None) -> int:
        """Consume until :meth:`stop` (or ``max_records`` records); returns records seen.

        The consumer is closed on the way out whatever happens: offsets stored so far
        are committed and the group is left at once rather than after a session timeout.
        """
        seen = 0
        self._consumer.subscribe(list(self._topics), on_assign=self._on_assign,
                                 on_revoke=self._on_revoke, on_lost=self._on_lost)
        try:
            while not self._stop.is_set():
                records = self._poll_batch()
                if records:
                    self._handle_batch(records)
                    seen += len(records)
                    if max_records is not None and seen >= max_records:
                        break
        finally:
            self._close()
        return seen

    def _close(self) -> None:
        try:
            self._producer.flush()
        finally:
            self._commit()
            self._consumer.close()
            log.info("left consumer group", extra={"group": self.group})

    def _commit(self) -> None:
        try:
            self._consumer.commit(asynchronous=False)
        except KafkaException as error:
            if error.args[0].code() != KafkaError._NO_OFFSET:  # nothing new to commit is fine
                log.warning("offset commit failed: %s", error, extra={"group": self.group})

    # ---- rebalance callbacks: they run inside poll(), between batches ----------------

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("partitions assigned: %s", _describe(partitions), extra={"group": self.group})

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Commit what we handled before another consumer takes these partitions over,
        # so it starts right after our last handled record instead of redoing work.
        self._commit()
        log.info("partitions revoked: %s", _describe(partitions), extra={"group": self.group})

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Our session expired: another consumer may already own these, committing is moot.
        log.warning("partitions lost: %s", _describe(partitions), extra={"group": self.group})

    # ---- polling ---------------------------------------------------------------------

    def _poll_batch(self) -> list[Record]:
        """The next record, plus whatever else is already waiting (up to the batch size)."""
        first = self._consumer.poll(0.5)
        if first is None:
            return []
        records = [first]
        if self.settings.batch_size > 1:
            records += self._consumer.consume(self.settings.batch_size - 1, timeout=0)
        handled = []
        for record in records:
            error = record.error()
            if error is None:
                handled.append(record)
            elif error.fatal():
                raise KafkaException(error)
            else:  # transient (broker down, rebalancing): librdkafka recovers on its own
                log.warning("consumer error: %s", error, extra={"group": self.group})
        return handled

    # ---- handling --------------------------------------------------------------------

    def _handle_batch(self, records: list[Record]) -> None:
        items = [self._decode(record) for record in records]
        if len(items) > 1 and all(item.error is None for item in items):
            try:
                self._transaction(items)
            except Exception as error:  # isolate the failure: go through them one by one
                log.info("batch of %d failed (%s); handling one by one", len(items),
                         type(error).__name__, extra={"group": self.group})
            else:
                self._done(items)
                return
        for item in items:
            if not self._handle_one(item):
                return  # stopped during a retry wait: leave it and the rest for later

    def _decode(self, record: Record) -> _Item:
        item = _Item(record, self._topics[record.topic()])
        try:
            item.event = envelope.decode(record.value(), item.topic)
        except PoisonMessage as error:
            item.error = error
        return item

    def _handle_one(self, item: _Item) -> bool:
        """Handle one record with retries, or dead-letter it; False if abandoned by stop."""
        attempt = 0
        while True:
            attempt += 1
            error = item.error or self._attempt(item)
            if error is None:
                self._done([item])
                return True
            metrics.HANDLER_FAILURES.labels(item.topic.name, self.group,
                                            type(error).__name__).inc()
            final = isinstance(error, PoisonMessage) or attempt >= self.settings.max_attempts
            self._log_failure(item, error, attempt, final)
            if final:
                self._dead_letter(item, error, attempt)
                return True
            if self._stop.wait(self._backoff(attempt)):
                return False

    def _attempt(self, item: _Item) -> BaseException | None:
        """One try in its own transaction; the error if it failed."""
        try:
            self._transaction([item])
        except IntegrityError as race:
            if not self._recorded_by_another(item):
                return race
            item.skipped = True  # another consumer of the group handled it meanwhile
        except Exception as failure:  # whatever the handler raised: retried or dead-lettered
            return failure
        return None

    def _transaction(self, items: list[_Item]) -> None:
        """Handle ``items`` in one transaction; commits only once their outputs are acked."""
        with session_scope(self.engine) as session:
            seen = processed_among(session, self.group,
                                   [item.event.event_id for item in items if item.event])
            fresh: list[str] = []
            outputs: list[Output] = []
            for item in items:
                assert item.event is not None
                if item.event.event_id in seen:  # handled before (or twice in this batch)
                    item.skipped = True
                    continue
                outputs += self.handler(item.event, session) or ()
                seen.add(item.event.event_id)
                fresh.append(item.event.event_id)
            mark_processed(session, self.group, fresh)
            for topic, event in outputs:
                self._producer.publish(topic, event)
            if outputs:
                self._producer.flush()

    def _done(self, items: list[_Item]) -> None:
        """Store the offsets of handled records, so auto-commit may send them."""
        now = datetime.now(UTC)
        lag = metrics.HANDLING_LAG.labels(self.group)
        last: dict[tuple[str, int], int] = {}
        for item in items:
            assert item.event is not None
            record = item.record
            last[(record.topic(), record.partition())] = record.offset()
            if item.skipped:
                metrics.DUPLICATES_SKIPPED.labels(item.topic.name, self.group).inc()
                log.info("skipped already processed event %s", item.event.event_id,
                         extra={"group": self.group, "topic": item.topic.name})
            else:
                lag.observe(max((now - item.event.produced_at).total_seconds(), 0.0))
        for topic, count in Counter(item.topic.name for item in items).items():
            metrics.EVENTS_CONSUMED.labels(topic, self.group).inc(count)
        self._store([TopicPartition(topic, partition, offset + 1)
                     for (topic, partition), offset in last.items()])

    def _store(self, offsets: list[TopicPartition]) -> None:
        """Store offsets (the next record to read, hence + 1) for auto-commit to send."""
        try:
            self._consumer.store_offsets(offsets=offsets)
        except KafkaException as error:
            # A rebalance served inside consume() took the partition away after its
            # records were fetched. Its new owner reads them again and skips them as
            # processed; there is nothing left for us to store.
            if error.args[0].code() != KafkaError._STATE:
                raise
            log.info("partition revoked before its offset was stored: %s", error,
                     extra={"group": self.group})

    def _recorded_by_another(self, item: _Item) -> bool:
        assert item.event is not None
        with session_scope(self.engine) as session:
            return already_processed(session, self.group, item.event.event_id)

    def _dead_letter(self, item: _Item, error: BaseException, attempts: int) -> None:
        target = self._dead_letters.send(item.record, error, attempts)
        # The dead letter must be durable before the offset moves past the record.
        self._producer.flush()
        metrics.DEAD_LETTERED.labels(item.topic.name, self.group).inc()
        record = item.record
        self._store([TopicPartition(record.topic(), record.partition(), record.offset() + 1)])
        log.error("dead-lettered record to %s", target, extra=self._context(item))

    def _backoff(self, attempt: int) -> float:
        delay = self.settings.retry_backoff_initial_s * 2 ** (attempt - 1)
        return float(min(delay, self.settings.retry_backoff_max_s))

    def _log_failure(self, item: _Item, error: BaseException, attempt: int,
                     final: bool) -> None:
        what = "cannot be handled" if isinstance(error, PoisonMessage) else "handler failed"
        log.warning("%s (attempt %d of %d, %s): %s: %s", what, attempt,
                    self.settings.max_attempts, "giving up" if final else "will retry",
                    type(error).__name__, error, extra=self._context(item),
                    exc_info=final and not isinstance(error, PoisonMessage))

    def _context(self, item: _Item) -> dict[str, object]:
        context: dict[str, object] = {
            "group": self.group, "topic": item.record.topic(),
            "partition": item.record.partition(), "offset": item.record.offset()}
        if item.event is not None:
            context |= {"event_id": item.event.event_id, "config": item.event.config_key}
        return context


def _describe(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "none"
