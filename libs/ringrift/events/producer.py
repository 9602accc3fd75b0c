"""Publishing events: idempotent, acknowledged by all in-sync replicas, never silently lost.

The producer is idempotent with ``acks=all``, so the broker writes each record once and
in order per partition even when librdkafka retries. The partition key comes from the
topic registry (the config key for pipeline events), so all events of one config stay
in order. Delivery reports are served by ``poll(0)`` on every publish; the first
failure is kept and raised as :class:`PublishError` on the next publish or flush, so a
lost write always surfaces in the caller.
"""

from __future__ import annotations

import logging
import time
from types import TracebackType

from confluent_kafka import KafkaError, Message, Producer
from google.protobuf.message import Message as ProtoMessage

from ringrift.events import envelope
from ringrift.events.envelope import Event
from ringrift.events.errors import PublishError
from ringrift.events.metrics import EVENTS_PUBLISHED, PUBLISH_FAILURES
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import Key, TopicSpec

log = logging.getLogger(__name__)


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


class EventProducer:
    """Publishes events to registry topics; also sends raw records (dead letters, replays).

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
        })
        self._error: PublishError | None = None

    def publish(self, topic: TopicSpec, event: Event[ProtoMessage]) -> None:
        """Queue ``event`` for ``topic``; delivery is confirmed by :meth:`flush`.

        Raises:
            PublishError: an earlier record was not delivered.
        """
        self.produce_raw(topic.name, partition_key(topic, event), envelope.encode(event))

    def produce_raw(self, topic: str, key: bytes | str | None, value: bytes | None,
                    headers: list[tuple[str, bytes]] | None = None,
                    timestamp_ms: int | None = None) -> None:
        """Queue one record as is (the dead-letter writer and replay use this)."""
        self._raise_pending()
        kwargs = {"timestamp": timestamp_ms} if timestamp_ms else {}
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=headers or None,
                                       on_delivery=self._on_delivery, **kwargs)
                break
            except BufferError:
                # The local queue is full: serve delivery reports until there is room.
                self._producer.poll(0.1)
        self._producer.poll(0)

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

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        topic = message.topic() or "?"
        if error is None:
            EVENTS_PUBLISHED.labels(topic).inc()
            return
        PUBLISH_FAILURES.labels(topic).inc()
        log.error("delivery failed", extra={"topic": topic, "error": str(error)})
        if self._error is None:
            self._error = PublishError(f"a record for {topic} was not delivered: {error.str()}"
                                       f" ({error.name()})")

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
