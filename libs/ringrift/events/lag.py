"""Consumer lag: records not yet finished per partition, asked of the broker on demand.

The lag of a partition is its high watermark minus the next offset the loop will finish
(or, before it finished any, the group's committed offset). It is asked through a client
of its own, never the loop's consumer: a librdkafka consumer called from a second thread
while the loop polls can hang, and ``consumer_lag()`` is called from a metrics scrape.
The client has the group's id only to read its committed offsets; it never joins.
"""

from __future__ import annotations

import logging
import threading

from confluent_kafka import Consumer, KafkaException, TopicPartition

from ringrift.events import metrics
from ringrift.events.settings import KafkaSettings

log = logging.getLogger(__name__)


class LagReader:
    """Answers lag questions for one consumer group (thread-safe)."""

    def __init__(self, settings: KafkaSettings, *, group: str, client_id: str) -> None:
        self._config = settings.client_config() | {
            "group.id": group, "client.id": client_id, "enable.auto.commit": False}
        self._group = group
        self._lock = threading.Lock()
        self._client: Consumer | None = None
        self._closed = False

    def read(self, positions: list[tuple[tuple[str, int], int | None]], timeout_s: float
             ) -> dict[tuple[str, int], int]:
        """Lag per ``((topic, partition), next offset or None)``; partitions the broker does
        not answer about are left out. Sets the ``CONSUMER_LAG`` gauge."""
        lags: dict[tuple[str, int], int] = {}
        with self._lock:
            if self._closed:
                return lags
            if self._client is None:
                self._client = Consumer(self._config)
            for (topic, partition), next_offset in positions:
                tp = TopicPartition(topic, partition)
                try:
                    low, high = self._client.get_watermark_offsets(tp, timeout=timeout_s)
                    if next_offset is None:  # nothing finished yet: where the group stands
                        [committed] = self._client.committed([tp], timeout=timeout_s)
                        next_offset = committed.offset if committed.offset >= 0 else low
                except KafkaException as error:  # broker away: no figure this time
                    log.debug("no lag for %s[%d]: %s", topic, partition, error)
                    continue
                lags[(topic, partition)] = max(0, high - max(next_offset, low))
                metrics.CONSUMER_LAG.labels(self._group, topic, str(partition)).set(
                    lags[(topic, partition)])
        return lags

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._client is not None:
                self._client.close()
                self._client = None
