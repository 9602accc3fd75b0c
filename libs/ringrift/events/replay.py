"""Listing dead letters and replaying them: ``ringrift events dlq list|replay``.

:func:`list_dead_letters` reads a dead-letter topic with a throwaway group (it changes no
state). :func:`replay` re-produces chosen letters to their original topic and partition
with their key, value and original headers, plus a :data:`~ringrift.events.deadletter.REPLAYED_FROM`
header naming the letter. Each replay is then recorded as a marker record in the
dead-letter topic itself (no value, header ``dlq.replay.of``, same partition as the
letter), so the listing shows what was replayed when, and a second replay of the same
letter is refused unless forced. The handler's idempotency store makes a forced replay of
an event that did get handled a no-op.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
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
from ringrift.events.deadletter import (
    HEADER_PREFIX,
    PARTITION,
    REPLAYED_FROM,
    TOPIC,
    dlq_topic,
)
from ringrift.events.errors import UnknownTopic
from ringrift.events.producer import EventProducer, RawRecord
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import DLQ_SUFFIX

REPLAY_OF = "dlq.replay.of"
REPLAYED_AT = "dlq.replayed_at"
REPLAYED_BY = "dlq.replayed_by"
# Answers while a new topic's partitions have no leader yet; they pass within seconds.
_LEADERLESS = frozenset({KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
                         KafkaError.UNKNOWN_TOPIC_OR_PART})


@dataclass(frozen=True)
class DeadLetter:
    """One letter of a dead-letter topic: where it sits, the original record, the context."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    original_headers: tuple[tuple[str, bytes], ...]
    context: dict[str, str]
    replays: tuple[str, ...] = field(default=())
    """When it was replayed (ISO times of its replay markers), oldest first."""

    @property
    def original_topic(self) -> str:
        return self.context.get(TOPIC, "")

    @property
    def position(self) -> str:
        """``partition:offset`` in the dead-letter topic, as ``dlq replay`` takes it."""
        return f"{self.partition}:{self.offset}"


def list_dead_letters(settings: KafkaSettings, topic: str, timeout: float = 30.0
                      ) -> list[DeadLetter]:
    """Every letter in ``topic``'s dead-letter topic, oldest first per partition.

    Raises:
        UnknownTopic: the dead-letter topic does not exist on the broker.
        RingriftError: no broker answered.
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
    letters: dict[int, DeadLetter] = {}
    replays: dict[int, list[str]] = {}
    deadline = time.monotonic() + timeout
    while True:
        record = consumer.poll(0.5)
        if record is not None and record.error() is None:
            _collect(record, letters, replays)
            if record.offset() >= high - 1:
                break
        elif record is None:
            # Offsets may have gaps (retention, compaction): the position says we are done.
            [position] = consumer.position([TopicPartition(topic, partition)])
            if position.offset >= high:
                break
        if time.monotonic() > deadline:
            raise RingriftError(f"reading {topic}[{partition}] stalled before offset {high}")
    return [DeadLetter(**{**vars(letter), "replays": tuple(replays.get(offset, ()))})
            for offset, letter in sorted(letters.items())]


def _collect(record: Record, letters: dict[int, DeadLetter],
             replays: dict[int, list[str]]) -> None:
    headers = {k: (v or b"").decode(errors="replace") for k, v in record.headers() or []}
    if REPLAY_OF in headers:  # a replay marker, not a letter
        offset = int(headers[REPLAY_OF].rsplit(":", 1)[1])
        replays.setdefault(offset, []).append(headers.get(REPLAYED_AT, "?"))
        return
    raw = record.headers() or []
    letters[record.offset()] = DeadLetter(
        topic=record.topic() or "", partition=record.partition() or 0,
        offset=record.offset() or 0, key=record.key(), value=record.value(),
        original_headers=tuple((k, v) for k, v in raw if not k.startswith(HEADER_PREFIX)),
        context={k: v for k, v in headers.items() if k.startswith(HEADER_PREFIX)})


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


@dataclass(frozen=True)
class ReplayResult:
    replayed: tuple[DeadLetter, ...]
    skipped: tuple[DeadLetter, ...]
    """Letters replayed before, left alone (pass ``force=True`` to replay them again)."""


def replay(settings: KafkaSettings, letters: Iterable[DeadLetter], *, force: bool = False
           ) -> ReplayResult:
    """Re-produce ``letters`` to their original topic and partition, then record each replay.

    Raises:
        PublishError: the broker did not take a replay or a marker.
    """
    letters = list(letters)
    chosen = [letter for letter in letters if force or not letter.replays]
    skipped = [letter for letter in letters if letter not in chosen]
    who = f"{socket.gethostname()}"
    with EventProducer(settings, client_id="ringrift-dlq-replay") as producer:
        for letter in chosen:
            headers = [(k, v) for k, v in letter.original_headers if k != REPLAYED_FROM]
            headers.append((REPLAYED_FROM, f"{letter.topic}:{letter.position}".encode()))
            partition = letter.context.get(PARTITION)
            producer.produce_raw(letter.original_topic, letter.key, letter.value, headers,
                                 partition=int(partition) if partition else None)
        producer.flush()  # the replays are in before any marker says so
        now = datetime.now(UTC).isoformat()
        for letter in chosen:
            marker = RawRecord(letter.topic, letter.key, None, (
                (REPLAY_OF, letter.position.encode()), (REPLAYED_AT, now.encode()),
                (REPLAYED_BY, who.encode())), partition=letter.partition)
            producer.produce_raw(marker.topic, marker.key, None, marker.headers,
                                 partition=marker.partition)
    return ReplayResult(tuple(chosen), tuple(skipped))
