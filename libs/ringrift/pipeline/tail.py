"""Follow the pipeline's topics from outside the services: a tail reader.

The status view and the end-to-end checks see the pipeline the way any outsider may: by
reading its topics (never a service's tables). A :class:`TopicTail` assigns itself every
partition of the topics it is given, without a consumer group (it commits nothing and
changes no state), decodes each record and hands ``(topic, event)`` to a callback from
its own thread. Each topic is read from the beginning, or from its end for the big
streams whose history only counts (games: the view counts them by offset instead).
Dead-letter topics are read too: each letter (not the replay markers ``dlq replay``
adds) is handed over with its ``dlq.*`` headers. A record that does not decode is
counted and skipped: the tail must never stop on bad input.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka import Message as Record

from ringrift.errors import PoisonMessage
from ringrift.events import envelope
from ringrift.events.envelope import Event
from ringrift.events.replay import REPLAY_OF
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import TopicSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadLetterSeen:
    """A letter in a dead-letter topic: where it is and why it got there."""

    dlq_topic: str
    partition: int
    offset: int
    headers: dict[str, str]


EventCallback = Callable[[TopicSpec, Event], None]
LetterCallback = Callable[[DeadLetterSeen], None]


class TopicTail:
    """Reads ``topics`` (and the dead-letter topics ``dead_letter_topics``) in a thread.

    Args:
        settings: the broker.
        topics: registry topics as the run names them (namespaced).
        on_event: called with each decoded event, in partition order.
        from_end: names of topics read from their end instead of their beginning.
        dead_letter_topics: names of ``.dlq`` topics to read from the beginning.
        on_dead_letter: called with each letter.
    """

    def __init__(self, settings: KafkaSettings, topics: Sequence[TopicSpec],
                 on_event: EventCallback, *, from_end: Sequence[str] = (),
                 dead_letter_topics: Sequence[str] = (),
                 on_dead_letter: LetterCallback | None = None) -> None:
        self._settings = settings
        self._topics = {spec.name: spec for spec in topics}
        self._from_end = set(from_end)
        self._dlq = list(dead_letter_topics)
        self._on_event = on_event
        self._on_dead_letter = on_dead_letter
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="topic-tail", daemon=True)
        self.undecodable = 0
        self.status = "not started"
        self.start_offsets: dict[tuple[str, int], int] = {}
        """Per (topic, partition) of the ``from_end`` topics: the end offset at start."""

    def start(self) -> TopicTail:
        self._thread.start()
        return self

    def close(self, timeout: float = 10.0) -> None:
        self._closed.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        consumer = Consumer(self._settings.client_config() | {
            "group.id": f"ringrift-tail-{uuid.uuid4().hex[:12]}",  # never joined or committed
            "enable.auto.commit": False, "enable.auto.offset.store": False,
        })
        try:
            while not self._closed.is_set():
                if self._assign(consumer):
                    break
                self._closed.wait(2.0)
            while not self._closed.is_set():
                record = consumer.poll(0.2)
                if record is not None:
                    self._handle(record)
        except Exception as error:  # say why the view went blind, never crash the command
            self.status = f"stopped by an error: {type(error).__name__}: {error}"
            log.exception("the topic tail stopped")
        finally:
            consumer.close()

    def _assign(self, consumer: Consumer) -> bool:
        names = [*self._topics, *self._dlq]
        try:
            metadata = consumer.list_topics(timeout=self._settings.connect_timeout_s).topics
        except Exception as error:  # the broker is not up yet: try again
            self.status = f"waiting for the broker: {error}"
            return False
        assignment = []
        for name in names:
            found = metadata.get(name)
            if found is None or found.error is not None:
                self.status = f"waiting for topic {name}"
                return False
            for partition in sorted(found.partitions):
                if name in self._from_end:
                    try:
                        _, high = consumer.get_watermark_offsets(
                            TopicPartition(name, partition),
                            timeout=self._settings.connect_timeout_s)
                    except KafkaException as error:  # e.g. no leader yet: a new topic
                        self.status = f"waiting for {name}[{partition}]: {error}"
                        return False
                    self.start_offsets[(name, partition)] = int(high)
                    assignment.append(TopicPartition(name, partition, OFFSET_END))
                else:
                    assignment.append(TopicPartition(name, partition, OFFSET_BEGINNING))
        consumer.assign(assignment)
        self.status = "following"
        return True

    def _handle(self, record: Record) -> None:
        error = record.error()
        if error is not None:
            if error.code() != KafkaError._PARTITION_EOF:
                log.warning("topic tail: %s", error)
            return
        name = record.topic() or ""
        spec = self._topics.get(name)
        if spec is None:  # a dead-letter topic
            headers = {key: (value or b"").decode(errors="replace")
                       for key, value in record.headers() or []}
            if REPLAY_OF not in headers and self._on_dead_letter is not None:
                try:
                    self._on_dead_letter(DeadLetterSeen(name, record.partition() or 0,
                                                        record.offset() or 0, headers))
                except Exception:
                    log.exception("handling a dead letter of %s failed", name)
            return
        if record.value() is None:  # a tombstone of a compacted topic
            return
        try:
            event = envelope.decode(record.value(), spec)
        except PoisonMessage as problem:
            self.undecodable += 1
            log.warning("topic tail skipped a record of %s: %s", name, problem)
            return
        try:
            self._on_event(spec, event)
        except Exception:  # a fault in what follows the tail must not blind it for good
            log.exception("handling an event of %s failed", name)
