"""Table readers: the latest value per key of a compacted topic, on every replica.

Selfplay, trainer and evaluator need the *current* value of "current value" topics (the
current model per config, curriculum weights, cluster status), on every replica and from
the start of the topic. A consumer group would hide those values after a restart (its
committed offset lies past them) and would share the partitions out between replicas,
so a :class:`TableReader` uses no group offsets at all: it assigns itself every
partition, reads from the beginning up to the high watermarks it saw at start (then it
is *caught up*: readiness waits for that), and keeps following new records in a
background thread, notifying subscribers of each change.

Per key it keeps the latest value; a tombstone (a record with no value) deletes the key.
Whether an incoming value replaces the one held is a rule per table (``is_newer``):
last write wins by default, and ``CurrentModel`` keeps the value with the highest
``revision``, so an older value replayed late (a slow producer, a restored backup)
never replaces a newer one. A record that cannot be decoded is logged and skipped: a
table reader has no dead-letter topic of its own and the value it held stays.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, TypeVar

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka import Message as Record
from google.protobuf.message import Message
from prometheus_client import Counter, Gauge

from ringrift.errors import PoisonMessage
from ringrift.events import envelope
from ringrift.events.envelope import Event
from ringrift.events.gen.model.v1.model_pb2 import CurrentModel
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import TopicSpec

log = logging.getLogger(__name__)
M = TypeVar("M", bound=Message)

CAUGHT_UP = Gauge("ringrift_events_table_caught_up",
                  "1 once a table reader has read every record present at its start.", ["topic"])
APPLIED = Counter("ringrift_events_table_applied_total",
                  "Changes applied to a table (new values and deletions).", ["topic"])
IGNORED = Counter("ringrift_events_table_ignored_total",
                  "Values ignored because they were not newer than the one held.", ["topic"])
UNDECODABLE = Counter("ringrift_events_table_undecodable_total",
                      "Records of a table topic that could not be decoded (skipped).", ["topic"])

Rule = Callable[[Event[Any], Event[Any]], bool]
"""``is_newer(held, incoming)``: whether ``incoming`` replaces the value held for its key."""


def last_write_wins(_held: Event[Any], _incoming: Event[Any]) -> bool:
    """The default rule: the record read last is the current value (log order)."""
    return True


def revision_increases(held: Event[Any], incoming: Event[Any]) -> bool:
    """Only a strictly higher ``payload.revision`` replaces the value held."""
    return int(incoming.payload.revision) > int(held.payload.revision)


NEWER_RULES: dict[str, Rule] = {CurrentModel.DESCRIPTOR.full_name: revision_increases}
"""The rule of each event type whose values carry an order of their own."""


@dataclass(frozen=True)
class Change(Generic[M]):
    """One change of one key, as subscribers see it."""

    key: str
    old: Event[M] | None
    new: Event[M] | None
    """None when a tombstone deleted the key."""
    initial: bool
    """True while the backlog is read (before the reader is caught up)."""


Subscriber = Callable[[Change[Any]], None]


class TableReader(Generic[M]):
    """The latest value per key of ``topic``, read by a background thread.

    Args:
        settings: the broker connection.
        topic: the compacted topic to read (a registry entry or a renamed copy).
        is_newer: the table's rule; default: :data:`NEWER_RULES` for the topic's event
            type, else :func:`last_write_wins`.
        poll_timeout_s: how long one poll waits; bounds how soon :meth:`close` returns.
    """

    def __init__(self, settings: KafkaSettings, topic: TopicSpec, *,
                 is_newer: Rule | None = None, poll_timeout_s: float = 0.2) -> None:
        self.topic = topic
        self._settings = settings
        self._is_newer = is_newer or NEWER_RULES.get(topic.event_type, last_write_wins)
        self._poll_timeout_s = poll_timeout_s
        self._values: dict[str, Event[M]] = {}
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._caught_up = threading.Event()
        self._closed = threading.Event()
        self._status = "not started"
        self._pending: set[int] = set()  # partitions not yet read up to their start watermark
        self._targets: dict[int, int] = {}
        self._thread = threading.Thread(target=self._run, name=f"table:{topic.name}",
                                        daemon=True)
        self._metrics = (APPLIED.labels(topic.name), IGNORED.labels(topic.name),
                         UNDECODABLE.labels(topic.name))
        CAUGHT_UP.labels(topic.name).set(0)

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> TableReader[M]:
        """Start reading in the background; returns at once (see :meth:`wait_caught_up`)."""
        self._thread.start()
        return self

    def close(self, timeout: float = 10.0) -> None:
        """Stop the background thread and close its consumer."""
        self._closed.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def __enter__(self) -> TableReader[M]:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ---- reading the table -----------------------------------------------------------

    @property
    def caught_up(self) -> bool:
        """Whether every record present at start has been read."""
        return self._caught_up.is_set()

    def wait_caught_up(self, timeout: float | None = None) -> bool:
        """Block until caught up (True) or ``timeout`` seconds passed (False)."""
        return self._caught_up.wait(timeout)

    def status(self) -> str:
        """One line for readiness and logs: caught up, reading, or what is wrong."""
        return self._status

    def get(self, key: str) -> Event[M] | None:
        """The current event for ``key`` (envelope and payload), or None."""
        with self._lock:
            return self._values.get(key)

    def value(self, key: str) -> M | None:
        """The current payload for ``key``, or None."""
        event = self.get(key)
        return None if event is None else event.payload

    def snapshot(self) -> dict[str, Event[M]]:
        """A copy of the whole table."""
        with self._lock:
            return dict(self._values)

    def subscribe(self, callback: Subscriber) -> None:
        """Call ``callback(change)`` on each change, from the reader's thread.

        Keep callbacks short and thread-safe (set a flag, put on a queue); an exception
        in one is logged and the reader goes on.
        """
        self._subscribers.append(callback)

    # ---- the background thread -------------------------------------------------------

    def _run(self) -> None:
        consumer = Consumer(self._settings.client_config() | {
            # A group id is required by librdkafka, but assign() never joins the group
            # and nothing is committed: every start reads from the beginning.
            "group.id": f"ringrift-table-{uuid.uuid4().hex[:12]}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,
        })
        try:
            if self._assign(consumer):
                while not self._closed.is_set():
                    self._poll(consumer)
        except Exception as error:  # the thread must say why it died; readiness shows it
            self._status = f"stopped by an error: {type(error).__name__}: {error}"
            log.exception("table reader failed", extra={"topic": self.topic.name})
        finally:
            consumer.close()

    def _assign(self, consumer: Consumer) -> bool:
        """Assign every partition from the beginning; False if closed before it could."""
        while not self._closed.is_set():
            try:
                partitions = self._partitions(consumer)
                for partition in partitions:
                    low, high = consumer.get_watermark_offsets(
                        TopicPartition(self.topic.name, partition),
                        timeout=self._settings.connect_timeout_s)
                    self._targets[partition] = high
                    if high > low:
                        self._pending.add(partition)
            except (KafkaException, _TopicMissing) as error:
                self._status = f"waiting for the broker: {_describe(error)}"
                log.warning("table reader cannot start yet: %s", self._status,
                            extra={"topic": self.topic.name})
                self._closed.wait(2.0)
                continue
            consumer.assign([TopicPartition(self.topic.name, p, OFFSET_BEGINNING)
                             for p in partitions])
            self._update_progress()
            return True
        return False

    def _partitions(self, consumer: Consumer) -> list[int]:
        metadata = consumer.list_topics(self.topic.name, timeout=self._settings.connect_timeout_s)
        found = metadata.topics.get(self.topic.name)
        if found is None or found.error is not None or not found.partitions:
            raise _TopicMissing(f"topic {self.topic.name} does not exist; create it with "
                                "`ringrift events topics create`")
        return sorted(found.partitions)

    def _poll(self, consumer: Consumer) -> None:
        record = consumer.poll(self._poll_timeout_s)
        if record is None:
            return
        error = record.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                self._partition_read(record.partition())
            elif error.fatal():
                raise KafkaException(error)
            else:  # transient: librdkafka reconnects by itself
                log.warning("table reader: %s", error, extra={"topic": self.topic.name})
            return
        self._apply(record)
        if record.offset() + 1 >= self._targets.get(record.partition(), 0):
            self._partition_read(record.partition())

    def _partition_read(self, partition: int) -> None:
        if partition in self._pending:
            self._pending.discard(partition)
            self._update_progress()

    def _update_progress(self) -> None:
        if self._pending:
            done = len(self._targets) - len(self._pending)
            self._status = f"reading the backlog: {done} of {len(self._targets)} partitions"
            return
        if not self._caught_up.is_set():
            self._status = "caught up"
            CAUGHT_UP.labels(self.topic.name).set(1)
            self._caught_up.set()
            log.info("table caught up: %d key(s)", len(self._values),
                     extra={"topic": self.topic.name})

    def _apply(self, record: Record) -> None:
        applied, ignored, undecodable = self._metrics
        raw_key = record.key()
        key = raw_key.decode("utf-8", "replace") if isinstance(raw_key, bytes) else str(raw_key)
        new: Event[M] | None = None
        if record.value() is not None:  # a record without a value is a tombstone
            try:
                new = envelope.decode(record.value(), self.topic)  # type: ignore[assignment]
            except PoisonMessage as error:
                undecodable.inc()
                log.warning("skipped an undecodable record: %s", error, extra={
                    "topic": self.topic.name, "partition": record.partition(),
                    "offset": record.offset()})
                return
        with self._lock:
            old = self._values.get(key)
            if new is None:
                if old is None:
                    return
                del self._values[key]
            elif old is not None and not self._is_newer(old, new):
                ignored.inc()
                log.info("ignored a value that is not newer than the one held",
                         extra={"topic": self.topic.name, "key": key,
                                "event_id": new.event_id})
                return
            else:
                self._values[key] = new
        applied.inc()
        self._notify(Change(key, old, new, initial=not self.caught_up))

    def _notify(self, change: Change[M]) -> None:
        for callback in list(self._subscribers):
            try:
                callback(change)
            except Exception:
                log.exception("a table subscriber failed", extra={"topic": self.topic.name})


class _TopicMissing(Exception):
    """The topic is not on the broker (yet)."""


def _describe(error: Exception) -> str:
    return str(error.args[0].str()) if isinstance(error, KafkaException) and error.args \
        else str(error)
