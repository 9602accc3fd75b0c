"""Dead letters for games set aside when their shard is built (after they were handled).

The consumer loop dead-letters what fails in the handler. A stored game can also turn out
unusable later, when the shard writer replays it (a record that decodes but does not
replay). Such a game is dead-lettered too, so it shows up where every bad input does
(``ringrift events dlq list``): the letter carries the event exactly as it arrived (the
store keeps its envelope bytes) with the usual ``dlq.*`` headers, the reason among them,
on the dead-letter twin of the games topic, on the partition of its config; its original
offset is not known here, so ``dlq.original.offset`` is -1. A replay of the letter is
handled again (the writer drops the event's processed id when it rejects the game). Letters
are sent and acknowledged before the shard's transaction commits: at least once.
"""

from __future__ import annotations

from collections.abc import Sequence

from ringrift import __version__
from ringrift.events.deadletter import DeadLetterWriter, SourceRecord
from ringrift.events.errors import PublishError
from ringrift.events.metrics import DEAD_LETTERED
from ringrift.events.producer import EventProducer, partition_for_key
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import TopicSpec
from services.exporter.records import UnusableGame


class LateDeadLetters:
    """Sends dead letters of stored games (``(config key, envelope bytes, reason)``).

    Args:
        settings: the broker.
        service, group: the service and consumer group named in the letters.
        topic: the games topic as this process names it (with the namespace).
    """

    def __init__(self, settings: KafkaSettings, *, service: str, group: str,
                 topic: TopicSpec) -> None:
        self.settings, self.topic, self.group = settings, topic, group
        self._writer = DeadLetterWriter(service=service, group=group,
                                        service_version=__version__,
                                        max_bytes=settings.max_message_bytes)
        self._producer: EventProducer | None = None

    def send(self, games: Sequence[tuple[str, bytes, str]]) -> None:
        """Dead-letter ``games`` and wait for the broker's acknowledgement.

        Raises:
            PublishError: the broker did not acknowledge them (retry later).
        """
        if not games:
            return
        if self._producer is None:
            self._producer = EventProducer(self.settings, client_id=f"{self.group}-dlq")
        letters = [self._writer.letter(
            SourceRecord(self.topic.name, partition_for_key(self.topic, config_key) or 0, -1,
                         config_key.encode(), value), UnusableGame(reason), attempts=1)
            for config_key, value, reason in games]
        delivery = self._producer.send(letters)
        if not delivery.wait(self.settings.publish_timeout_s) or delivery.failures():
            raise PublishError(f"{len(letters)} dead letter(s) of rejected games were not "
                               f"acknowledged by {self.settings.bootstrap_servers}")
        DEAD_LETTERED.labels(self.topic.name, self.group).inc(len(letters))
