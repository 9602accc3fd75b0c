"""Read what the topics hold, start to end, as decoded events: the pipeline's history.

``ringrift events trace``, the end-to-end test's checks and ``make bench-pipeline`` look
at the whole record of a run the way an outsider may: from the topics. :func:`read_history`
reads every partition of the given topics from the beginning (or from a time) up to the
end it saw when it began, without a consumer group, and returns the decoded events in
partition order with where each one sits. Records that do not decode are counted, not
returned: the history of a topic with a poison record in it is still readable.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from ringrift.errors import PoisonMessage, RingriftError
from ringrift.events import envelope
from ringrift.events.envelope import Event
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import TopicSpec


@dataclass(frozen=True)
class Recorded:
    """One event and where it is on its topic."""

    event: Event[Any]
    topic: str
    partition: int
    offset: int


@dataclass
class History:
    """The events of each topic, by topic name, in partition and offset order."""

    events: dict[str, list[Recorded]] = field(default_factory=dict)
    undecodable: int = 0

    def of(self, spec: TopicSpec) -> list[Recorded]:
        return self.events.get(spec.name, [])


def read_history(settings: KafkaSettings, topics: Sequence[TopicSpec], *,
                 partitions: dict[str, Sequence[int]] | None = None,
                 since: datetime | None = None, timeout_s: float = 120.0) -> History:
    """Every event of ``topics`` up to their current end.

    Args:
        settings: the broker.
        topics: the topics, as the run names them.
        partitions: per topic name, only these partitions (default: all).
        since: start at the first record at or after this time instead of the beginning.
        timeout_s: give up when the end is not reached in this time.

    Raises:
        RingriftError: a topic does not exist, or the broker did not answer in time.
    """
    consumer = Consumer(settings.client_config() | {
        "group.id": f"ringrift-history-{uuid.uuid4().hex[:12]}", "enable.auto.commit": False,
        "enable.auto.offset.store": False})
    history = History({spec.name: [] for spec in topics})
    try:
        ends = _assign(consumer, settings, topics, partitions or {}, since)
        limits = dict(ends)  # what arrives after the start is not part of this history
        by_name = {spec.name: spec for spec in topics}
        deadline = time.monotonic() + timeout_s
        while ends:
            for record in consumer.consume(500, timeout=0.5):
                if record.error() is not None:
                    continue
                key = (record.topic() or "", record.partition() or 0)
                if record.offset() >= limits.get(key, 0):
                    continue
                if record.value() is not None:
                    _decode(history, by_name[key[0]], record)
                if key in ends and record.offset() + 1 >= ends[key]:
                    del ends[key]
            _drop_finished(consumer, ends)
            if ends and time.monotonic() > deadline:
                raise RingriftError(f"reading the topics did not reach their end within "
                                    f"{timeout_s:.0f} s: {sorted(ends)[:5]} ...")
    finally:
        consumer.close()
    return history


def _decode(history: History, spec: TopicSpec, record: Any) -> None:
    try:
        event = envelope.decode(record.value(), spec)
    except PoisonMessage:
        history.undecodable += 1
        return
    history.events[spec.name].append(Recorded(event, spec.name, record.partition(),
                                              record.offset()))


def _assign(consumer: Consumer, settings: KafkaSettings, topics: Sequence[TopicSpec],
            partitions: dict[str, Sequence[int]], since: datetime | None
            ) -> dict[tuple[str, int], int]:
    """Assign the partitions from their start; returns the end offset of each non-empty one."""
    try:
        metadata = consumer.list_topics(timeout=settings.connect_timeout_s).topics
    except KafkaException as error:
        raise RingriftError(f"no answer from a Kafka broker at {settings.bootstrap_servers} "
                            f"({error}); is it running?") from error
    starts: list[TopicPartition] = []
    ends: dict[tuple[str, int], int] = {}
    for spec in topics:
        found = metadata.get(spec.name)
        if found is None or found.error is not None:
            raise RingriftError(f"topic {spec.name} does not exist on "
                                f"{settings.bootstrap_servers}")
        for partition in partitions.get(spec.name, sorted(found.partitions)):
            low, high = consumer.get_watermark_offsets(TopicPartition(spec.name, partition),
                                                       timeout=settings.connect_timeout_s)
            if high > low:
                ends[(spec.name, partition)] = int(high)
                starts.append(TopicPartition(spec.name, partition, OFFSET_BEGINNING))
    if since is not None and starts:
        stamp = int(since.timestamp() * 1000)
        wanted = [TopicPartition(start.topic, start.partition, stamp) for start in starts]
        starts = consumer.offsets_for_times(wanted, timeout=settings.connect_timeout_s)
        for start in starts:
            if start.offset < 0:  # nothing at or after the time: that partition is done
                ends.pop((start.topic, start.partition), None)
        starts = [start for start in starts if start.offset >= 0]
    consumer.assign(starts)
    return ends


def _drop_finished(consumer: Consumer, ends: dict[tuple[str, int], int]) -> None:
    """Partitions whose position is past their end (gaps of compaction or retention)."""
    if not ends:
        return
    positions = consumer.position([TopicPartition(topic, partition)
                                   for topic, partition in ends])
    for position in positions:
        if position.offset >= 0 and position.offset >= ends.get(
                (position.topic, position.partition), 0):
            ends.pop((position.topic, position.partition), None)
