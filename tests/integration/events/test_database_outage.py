"""(1) The service's PostgreSQL stops for 30 s in the middle of a stream: an outage, not poison.

A private PostgreSQL server (never the shared one) holds the consumer's store; events of
three configs stream in, each handled with an effect row and an output through the
outbox. Half-way, the server is stopped for 30 s and started again. Checks: meanwhile the
loop reports the outage (readiness) and keeps its partitions; afterwards every event was
handled exactly once, in order per config, nothing was dead-lettered, every output was
published (none missing, none that was not asked for), and the outage is over.
"""

from __future__ import annotations

import threading
import time

import pytest

from ringrift.events import envelope, replay
from ringrift.events.consumer import ConsumerLoop
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import ShardWritten
from ringrift.events.producer import EventProducer
from ringrift.events.topics import GAME_COMPLETED, SHARD_WRITTEN
from ringrift.localinfra.postgres import ThrowawayPostgres
from ringrift.storage import migrations
from tests.integration.events.support import (
    LoopThread,
    effect_count,
    effects,
    game_event,
    make_store,
    read_topic,
    recording_handler,
    wait_until,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]
KEYS = ("square8_2p", "hex8_3p", "square19_4p")
OUTAGE_S = 30


def test_a_30_second_database_outage_loses_nothing_and_dead_letters_nothing(
        kafka_settings, topic_factory, group_factory) -> None:
    games, shards = topic_factory(GAME_COMPLETED, 3), topic_factory(SHARD_WRITTEN, 3)
    settings = kafka_settings.model_copy(update={"retry_backoff_max_s": 2.0})
    with ThrowawayPostgres() as server:
        migrations.upgrade_to_head(server.url)
        engine = make_store(server.url)
        record = recording_handler("exporter")

        def handle(event, session):
            record(event, session)
            shard = ShardWritten(shard_id=f"shard-{event.payload.game_id}",
                                 config_key=event.config_key, num_games=1)
            return [(shards, envelope.follow_up(event, shard, producer="exporter"))]

        loop = LoopThread(ConsumerLoop(settings, service="exporter", group=group_factory(),
                                       topics=[games], handler=handle, engine=engine))
        published: list = []
        restarted = threading.Event()

        def produce() -> None:  # flows through the outage and a while after it
            with EventProducer(settings) as producer:
                seq, last = 0, None
                while last is None or seq < last:
                    for key in KEYS:
                        event = game_event(key, seq)
                        producer.publish(games, event)
                        published.append(event)
                    seq += 1
                    if last is None and restarted.is_set():
                        last = seq + 10
                    time.sleep(0.05)

        producer = threading.Thread(target=produce)
        producer.start()
        try:
            wait_until(lambda: effect_count(engine) >= 30, 120, "the stream to be handled")
            server.stop()
            wait_until(lambda: loop.loop.status().outage is not None, 60,
                       "the loop to report the outage")
            time.sleep(OUTAGE_S)  # the scenario: the database stays away this long
            during = loop.loop.status()
            server.start()
            restarted.set()
            producer.join(180)
            total = len(published)
            wait_until(lambda: effect_count(engine) >= total, 240,
                       f"all {total} events handled after the restart")
            wait_until(lambda: loop.loop.status().outage is None, 60, "the outage to clear")
            wait_until(lambda: len({e.event_id for _, e in read_topic(settings, shards.name)})
                       >= total, 120, "every output published")
        finally:
            loop.stop()
            engine.dispose()
        assert not producer.is_alive()
        assert during.outage is not None and during.assigned, during
        assert "OperationalError" in during.outage.reason, during.outage
        assert set(during.paused) >= set(during.outage.partitions)

        handled = effects(engine)
        assert len(handled) == total, "an event was handled twice or lost"
        for key in KEYS:
            sent = [e.payload.num_moves for e in published if e.config_key == key]
            assert [e.seq for e in handled if e.config_key == key] == sent, key
        assert replay.list_dead_letters(settings, games.name) == []
        outputs = {e.event_id for _, e in read_topic(settings, shards.name)}
        assert outputs == {envelope.derive_event_id(e.event_id, "ringrift.selfplay.v1.ShardWritten")
                           for e in published}
