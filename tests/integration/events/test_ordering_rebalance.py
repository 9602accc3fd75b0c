"""(1) Per-key order holds while the consumer group rebalances, against the real broker.

Events of six configs stream into a six-partition topic while consumer A handles them;
consumer B joins the group mid-stream (a rebalance), then A leaves (another); the stream
flows until after A has left. Checks:
every event's effect happened exactly once, the effects of each config are in publish
order, both consumers did part of the work, and B alone handled what came after A left.
"""

from __future__ import annotations

import threading
import time

import pytest

from ringrift.events.consumer import ConsumerLoop
from ringrift.events.producer import EventProducer
from ringrift.events.topics import GAME_COMPLETED
from tests.integration.events.support import (
    LoopThread,
    effect_count,
    effects,
    game_event,
    make_store,
    recording_handler,
    wait_until,
)

pytestmark = pytest.mark.kafka
KEYS = ("square8_2p", "square8_3p", "hex8_2p", "hex8_4p", "square19_2p", "hexagonal_3p")


def test_per_key_order_survives_a_consumer_joining_and_leaving(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    topic = topic_factory(GAME_COMPLETED, partitions=6)
    group, engine = group_factory(), make_store(tmp_path / "exporter.db")
    # Small batches and a slow handler, so the stream is still flowing at each rebalance.
    settings = kafka_settings.model_copy(update={"batch_size": 10})

    def slow(_event: object) -> None:
        time.sleep(0.004)

    def consumer(name: str) -> LoopThread:
        return LoopThread(ConsumerLoop(settings, service="exporter", group=group,
                                       topics=[topic], engine=engine,
                                       handler=recording_handler(name, fail=slow)))

    rounds: list[int] = []
    a_left = threading.Event()

    def produce() -> None:
        # Flows until A has left (and a while after), however long the rebalances take.
        with EventProducer(settings) as producer:
            seq, last = 0, None
            while last is None or seq < last:
                for key in KEYS:
                    producer.publish(topic, game_event(key, seq))
                seq += 1
                if last is None and a_left.is_set():
                    last = seq + 20
                time.sleep(0.03)
        rounds.append(seq)

    producer = threading.Thread(target=produce)
    producer.start()
    first = consumer("A")
    wait_until(lambda: effect_count(engine) >= 150, 120, "A to handle 150 events")
    second = consumer("B")  # joins: the group rebalances
    wait_until(lambda: {e.consumer for e in effects(engine)} == {"A", "B"}, 120,
               "B to be assigned partitions and handle events")
    first.stop()  # leaves: B takes every partition
    handled_when_a_left = effect_count(engine)
    a_left.set()
    producer.join(120)
    total = rounds[0] * len(KEYS)
    wait_until(lambda: effect_count(engine) >= total, 180, f"all {total} events handled")
    second.stop()

    handled = effects(engine)
    assert len(handled) == total, "an event was handled twice or lost"
    for key in KEYS:
        assert [e.seq for e in handled if e.config_key == key] == list(range(rounds[0])), key
    assert handled_when_a_left < total, "the stream ended before A left; nothing was tested"
    assert {e.consumer for e in handled[handled_when_a_left:]} == {"B"}
