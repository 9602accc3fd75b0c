"""Dead letters: records a consumer could not handle, kept with the reason, and replayed.

A record that cannot be decoded, or whose handler still fails after the last retry,
goes to ``<topic>.dlq`` with its original key, value and headers untouched, plus
context headers (``dlq.*``) naming where it came from and why it failed: original
topic, partition and offset, error class, message and stack trace, service, consumer
group and attempt count. :func:`list_dead_letters` reads a dead-letter topic and
:func:`replay` re-produces chosen records to their original topic with their key,
value and original headers, once the cause is fixed. The handler's idempotency store
makes a replay of an event that did get handled after all a no-op.
"""

from __future__ import annotations

import time
import traceback
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka import Message as Record

from ringrift.errors import RingriftError
from ringrift.events.errors import UnknownTopic
from ringrift.events.producer import EventProducer
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import DLQ_SUFFIX

HEADER_PREFIX = "dlq."
TOPIC = "dlq.original.topic"
PARTITION = "dlq.original.partition"
OFFSET = "dlq.original.offset"
ERROR_CLASS = "dlq.error.class"
ERROR_MESSAGE = "dlq.error.message"
STACK_TRACE = "dlq.error.stacktrace"
SERVICE = "dlq.service"
GROUP = "dlq.group"
ATTEMPTS = "dlq.attempts"
FAILED_AT = "dlq.failed_at"
MAX_TRACE_BYTES = 16_000
# Answers while a new topic's partitions have no leader yet; they pass within seconds.
_LEADERLESS = frozenset({KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
                         KafkaError.UNKNOWN_TOPIC_OR_PART})  # keeps a deep trace from pushing the record past the size limit


def dlq_topic(original: str) -> str:
    return original + DLQ_SUFFIX


class DeadLetterWriter:
    """Writes failed records to their topic's dead-letter twin through ``producer``."""

    def __init__(self, producer: EventProducer, *, service: str, group: str) -> None:
        self._producer = producer
        self._service = service
        self._group = group

    def send(self, record: Record, error: BaseException, attempts: int) -> str:
        """Queue ``record`` for ``<topic>.dlq`` with its context; the caller flushes.

        Returns:
            The dead-letter topic's name.
        """
        original_topic = record.topic() or ""
        trace = "".join(traceback.format_exception(error))[-MAX_TRACE_BYTES:]
        context = {
            TOPIC: original_topic,
            PARTITION: str(record.partition()),
            OFFSET: str(record.offset()),
            ERROR_CLASS: f"{type(error).__module__}.{type(error).__qualname__}",
            ERROR_MESSAGE: str(error),
            STACK_TRACE: trace,
            SERVICE: self._service,
            GROUP: self._group,
            ATTEMPTS: str(attempts),
            FAILED_AT: datetime.now(UTC).isoformat(),
        }
        headers = [(k, v) for k, v in (record.headers() or []) if not k.startswith(HEADER_PREFIX)]
        headers += [(k, v.encode()) for k, v in context.items()]
        _, timestamp_ms = record.timestamp()
        target = dlq_topic(original_topic)
        self._producer.produce_raw(target, record.key(), record.value(), headers,
                                   timestamp_ms=timestamp_ms if timestamp_ms > 0 else None)
        return target


@dataclass(frozen=True)
class DeadLetter:
    """One record of a dead-letter topic: where it sits, the original record, the context."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    original_headers: tuple[tuple[str, bytes], ...]
    context: dict[str, str]

    @property
    def original_topic(self) -> str:
        return self.context.get(TOPIC, "")

    @property
    def position(self) -> str:
        """``partition:offset`` in the dead-letter topic, as ``dlq replay`` takes it."""
        return f"{self.partition}:{self.offset}"


def list_dead_letters(settings: KafkaSettings, topic: str, timeout: float = 30.0
                      ) -> list[DeadLetter]:
    """Every record in ``topic``'s dead-letter topic, oldest first per partition.

    Reads with a throwaway group that commits nothing, so listing changes no state.

    Raises:
        UnknownTopic: the dead-letter topic does not exist on the broker.
    """
    name = topic if topic.endswith(DLQ_SUFFIX) else dlq_topic(topic)
    consumer = Consumer(settings.client_config() | {
        "group.id": f"ringrift-dlq-reader-{uuid.uuid4()}", "enable.auto.commit": False,
    })
    try:
        try:
            metadata = consumer.list_topics(name, timeout=settings.connect_timeout_s
                                            ).topics.get(name)
        except KafkaException as error:
            raise RingriftError(f"no answer from a Kafka broker at {settings.bootstrap_servers}"
                                f" ({error.args[0].str()}); is it running?") from error
        if metadata is None or metadata.error is not None:
            raise UnknownTopic(f"dead-letter topic {name} does not exist on "
                               f"{settings.bootstrap_servers}; provision the topics first")
        letters: list[DeadLetter] = []
        for partition in sorted(metadata.partitions):
            letters += _read_partition(consumer, name, partition, timeout)
        return letters
    finally:
        consumer.close()


def _read_partition(consumer: Consumer, topic: str, partition: int, timeout: float
                    ) -> list[DeadLetter]:
    low, high = _watermarks(consumer, topic, partition, timeout)
    if high <= low:
        return []
    consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
    letters: list[DeadLetter] = []
    deadline = time.monotonic() + timeout
    while True:
        record = consumer.poll(0.5)
        if record is not None and record.error() is None:
            letters.append(_letter(record))
            if record.offset() >= high - 1:
                return letters
        elif record is None:
            # Offsets may have gaps (retention, compaction): the position says we are done.
            [position] = consumer.position([TopicPartition(topic, partition)])
            if position.offset >= high:
                return letters
        if time.monotonic() > deadline:
            raise RingriftError(f"reading {topic}[{partition}] stalled before offset {high}")


def _letter(record: Record) -> DeadLetter:
    headers = record.headers() or []
    return DeadLetter(
        partition=record.partition(), offset=record.offset(), key=record.key(),
        value=record.value(),
        original_headers=tuple((k, v) for k, v in headers if not k.startswith(HEADER_PREFIX)),
        context={k: v.decode(errors="replace") for k, v in headers
                 if k.startswith(HEADER_PREFIX) and v is not None},
    )


def _watermarks(consumer: Consumer, topic: str, partition: int, timeout: float
                ) -> tuple[int, int]:
    """Low and high offsets; retried while the partition has no leader yet (just created)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition),
                                                       timeout)
            return int(low), int(high)
        except KafkaException as error:
            code = error.args[0].code()
            transient = error.args[0].retriable() or code in _LEADERLESS
            if not transient or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def replay(settings: KafkaSettings, letters: Iterable[DeadLetter]) -> int:
    """Re-produce ``letters`` to their original topics, unchanged, and wait for the acks.

    Returns:
        How many records were replayed.
    """
    count = 0
    with EventProducer(settings, client_id="ringrift-dlq-replay") as producer:
        for letter in letters:
            producer.produce_raw(letter.original_topic, letter.key, letter.value,
                                 list(letter.original_headers))
            count += 1
    return count
