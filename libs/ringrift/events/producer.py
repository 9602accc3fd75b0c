"""Publishing events: idempotent, acknowledged by all in-sync replicas, never silently lost.

The producer is idempotent with ``acks=all``, so the broker writes each record once and
in order per partition even when librdkafka retries. The partition comes from the topic
registry: a config-keyed topic puts each config of :data:`ringrift.configs.ALL_CONFIGS` on
the partition of its index (Kafka's key hash would put ``square8_2p``, ``square19_4p`` and
``hexagonal_3p`` on one partition of twelve, so a long square19 job would hold up
square8); other keys are hashed by Kafka.

Two ways to send: :meth:`EventProducer.publish` + :meth:`~EventProducer.flush` for
commands, tests and benchmarks (the first failure is raised as :class:`PublishError` on the
next publish or flush), and :meth:`EventProducer.send`, which tracks the delivery of each
record of a batch (the outbox relay and the dead-letter writer: they must know which
records made it). Pipeline services never publish directly: their outputs go through the
outbox (:mod:`ringrift.events.outbox`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from google.protobuf.message import Message as ProtoMessage

from ringrift.configs import ALL_CONFIGS
from ringrift.events import envelope
from ringrift.events.envelope import Event
from ringrift.events.errors import PublishError
from ringrift.events.metrics import EVENTS_PUBLISHED, PUBLISH_FAILURES
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import Key, TopicSpec

log = logging.getLogger(__name__)

_CONFIG_INDEX = {config.key: index for index, config in enumerate(ALL_CONFIGS)}


def partition_key(topic: TopicSpec, event: Event[ProtoMessage]) -> str:
    """The record key of ``event`` on ``topic``, as the registry declares it."""
    match topic.key:
        case Key.CONFIG:
            return event.config_key
        case Key.ALL:
            return "all"
        case Key.NODE_ID:
            return str(getattr(event.payload, "node_id"))  # noqa: B009 - field named by Key
    raise AssertionError(f"unhandled key kind {topic.key}")


def partition_for(topic: TopicSpec, event: Event[ProtoMessage]) -> int | None:
    """The partition of ``event`` on ``topic``: the config's registry index on a config-keyed
    topic (modulo its partitions), else None (Kafka hashes the key)."""
    return partition_for_key(topic, partition_key(topic, event))


def partition_for_key(topic: TopicSpec, key: str) -> int | None:
    """The partition of records keyed ``key`` on ``topic`` (as :func:`partition_for`)."""
    if topic.key is not Key.CONFIG:
        return None
    index = _CONFIG_INDEX.get(key)
    return None if index is None else index % topic.partitions


@dataclass(frozen=True)
class RawRecord:
    """One record as it goes on the wire (outbox rows, dead letters, replays)."""

    topic: str
    key: bytes | str | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = ()
    partition: int | None = None
    timestamp_ms: int | None = None


class Delivery:
    """The delivery reports of the records of one :meth:`EventProducer.send` call."""

    _PENDING = object()

    def __init__(self, producer: Producer, count: int) -> None:
        self._producer = producer
        self._results: list[object] = [self._PENDING] * count
        self._pending = count

    def _report(self, index: int, error: KafkaError | None) -> None:
        if self._results[index] is self._PENDING:
            self._pending -= 1
        self._results[index] = error

    @property
    def complete(self) -> bool:
        """Every record has its report (delivered or failed)."""
        return self._pending == 0

    def wait(self, timeout_s: float) -> bool:
        """Serve delivery reports until all are in or ``timeout_s`` passed; whether all are."""
        deadline = time.monotonic() + timeout_s
        while self._pending and time.monotonic() < deadline:
            self._producer.poll(min(0.05, max(0.0, deadline - time.monotonic())))
        return self.complete

    def delivered(self) -> list[int]:
        """Indexes of the records the broker acknowledged."""
        return [i for i, result in enumerate(self._results) if result is None]

    def failures(self) -> list[tuple[int, KafkaError]]:
        """(index, error) of the records that failed."""
        return [(i, r) for i, r in enumerate(self._results) if isinstance(r, KafkaError)]


class EventProducer:
    """Publishes events to registry topics; also sends raw records (outbox, dead letters).

    Args:
        settings: the broker connection.
        client_id: names this producer in the broker's logs, e.g. the service name.
    """

    def __init__(self, settings: KafkaSettings, client_id: str = "ringrift") -> None:
        self._settings = settings
        self._producer = Producer(settings.client_config() | {
            "client.id": client_id,
            "enable.idempotence": True,
            "acks": "all",
            # Retries happen inside librdkafka (idempotence keeps them in order and
            # single); a record not delivered within this bound is reported as failed.
            "delivery.timeout.ms": int(settings.publish_timeout_s * 1000) * 4,
            "linger.ms": settings.linger_ms,
            "message.max.bytes": settings.max_message_bytes,
        })
        self._error: PublishError | None = None

    def publish(self, topic: TopicSpec, event: Event[ProtoMessage]) -> None:
        """Queue ``event`` for ``topic``; delivery is confirmed by :meth:`flush`.

        Raises:
            PublishError: an earlier record was not delivered.
        """
        self.produce_raw(topic.name, partition_key(topic, event), envelope.encode(event),
                         partition=partition_for(topic, event))

    def tombstone(self, topic: TopicSpec, key: str) -> None:
        """Queue a deletion of ``key`` from the compacted ``topic`` (a record without value),
        on the partition the key's values go to; confirmed by :meth:`flush`."""
        self.produce_raw(topic.name, key, None, partition=partition_for_key(topic, key))

    def produce_raw(self, topic: str, key: bytes | str | None, value: bytes | None,
                    headers: Sequence[tuple[str, bytes]] | None = None,
                    timestamp_ms: int | None = None, partition: int | None = None) -> None:
        """Queue one record as is; a failure surfaces on the next publish or flush.

        Raises:
            PublishError: an earlier record was not delivered.
        """
        self._raise_pending()
        self._produce(RawRecord(topic, key, value, tuple(headers or ()), partition,
                                timestamp_ms), self._on_delivery)

    def send(self, records: Sequence[RawRecord]) -> Delivery:
        """Queue ``records`` in order and return their :class:`Delivery` to wait on."""
        delivery = Delivery(self._producer, len(records))
        for index, record in enumerate(records):
            def report(error: KafkaError | None, message: Message, index: int = index) -> None:
                self._count(error, message)
                delivery._report(index, error)
            try:
                self._produce(record, report)
            except KafkaException as error:  # refused at once, e.g. larger than the limit
                PUBLISH_FAILURES.labels(record.topic).inc()
                delivery._report(index, error.args[0])
        return delivery

    def _produce(self, record: RawRecord, callback: object) -> None:
        kwargs: dict[str, object] = {}
        if record.timestamp_ms:
            kwargs["timestamp"] = record.timestamp_ms
        if record.partition is not None:
            kwargs["partition"] = record.partition
        while True:
            try:
                self._producer.produce(record.topic, value=record.value, key=record.key,
                                       headers=list(record.headers) or None,
                                       on_delivery=callback, **kwargs)
                break
            except BufferError:
                # The local queue is full: serve delivery reports until there is room.
                self._producer.poll(0.1)
        self._producer.poll(0)

    def topic_exists(self, topic: str, timeout_s: float) -> bool | None:
        """Whether the broker knows ``topic``; None if no broker answered in time."""
        try:
            metadata = self._producer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        except KafkaException:
            return None
        if metadata is None or metadata.error is None:
            return metadata is not None
        return metadata.error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued record is acknowledged.

        Raises:
            PublishError: a record failed, or some were still unacknowledged at the timeout.
        """
        timeout = self._settings.publish_timeout_s if timeout is None else timeout
        deadline = time.monotonic() + timeout
        remaining = self._producer.flush(timeout)
        while remaining and time.monotonic() < deadline:
            remaining = self._producer.flush(max(0.0, deadline - time.monotonic()))
        self._raise_pending()
        if remaining:
            raise PublishError(f"{remaining} record(s) not acknowledged by the broker within "
                               f"{timeout:.0f} s ({self._settings.bootstrap_servers}); is it up?")

    def close(self) -> None:
        """Flush what is queued; raises like :meth:`flush`."""
        self.flush()

    def __enter__(self) -> EventProducer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is None:
            self.close()
        else:  # do not hide the original error behind a flush failure
            self._producer.flush(5)

    def _count(self, error: KafkaError | None, message: Message) -> None:
        topic = message.topic() or "?"
        if error is None:
            EVENTS_PUBLISHED.labels(topic).inc()
        else:
            PUBLISH_FAILURES.labels(topic).inc()
            log.warning("delivery failed", extra={"topic": topic, "error": str(error)})

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        self._count(error, message)
        if error is not None and self._error is None:
            self._error = PublishError(
                f"a record for {message.topic()} was not delivered: {error.str()} "
                f"({error.name()})", error.code())

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
