"""(4) The broker restarts in the middle of a stream: producers and consumers recover.

Runs its own broker (the session's is shared by other tests) on fixed ports, restarts
it while a producer publishes and a consumer handles, and checks that every event was
handled exactly once and in order per config: nothing lost, nothing doubled.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace

import pytest

from ringrift.events.consumer import ConsumerLoop
from ringrift.events.producer import EventProducer
from ringrift.events.provision import create_topics
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import GAME_COMPLETED
from ringrift.localinfra.kafka import LocalKafka
from tests.integration.events.support import (
    LoopThread,
    effect_count,
    effects,
    game_event,
    make_store,
    recording_handler,
    wait_until,
)

pytestmark = [
    pytest.mark.kafka,
    pytest.mark.slow,
    pytest.mark.skipif(bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS")),
                       reason="restarts a broker of its own; an external one cannot be"),
]
KEYS = ("square8_2p", "hex8_3p", "square19_4p")


def test_producer_and_consumer_recover_from_a_broker_restart(group_factory, tmp_path) -> None:
    with LocalKafka(tmp_path / "broker") as broker:
        settings = KafkaSettings(bootstrap_servers=broker.bootstrap_servers,
                                 session_timeout_ms=6_000, auto_commit_interval_ms=200,
                                 retry_backoff_initial_s=0.2, retry_backoff_max_s=2.0)
        topic = replace(GAME_COMPLETED, name="test.restart.games", partitions=3)
        create_topics(settings, [topic])
        engine = make_store(tmp_path / "exporter.db")
        loop = LoopThread(ConsumerLoop(settings, service="exporter", group=group_factory(),
                                       topics=[topic], engine=engine,
                                       handler=recording_handler("a")))
        producer_error: list[BaseException] = []
        rounds: list[int] = []
        restarted = threading.Event()

        def produce() -> None:  # flows until after the restart, however slow the machine
            try:
                with EventProducer(settings) as producer:
                    seq, last = 0, None
                    while last is None or seq < last:
                        for key in KEYS:
                            producer.publish(topic, game_event(key, seq))
                        seq += 1
                        if last is None and restarted.is_set():
                            last = seq + 20
                        time.sleep(0.04)
                rounds.append(seq)
            except BaseException as error:  # surfaced below
                producer_error.append(error)

        producer = threading.Thread(target=produce)
        producer.start()
        try:
            wait_until(lambda: effect_count(engine) >= 30, 120, "the stream to start")
            broker.restart()  # SIGTERM, then start again on the same ports and data
            restarted.set()
            producer.join(240)
            assert not producer.is_alive() and not producer_error, producer_error
            total = rounds[0] * len(KEYS)
            wait_until(lambda: effect_count(engine) >= total, 240,
                       f"all {total} events handled after the restart")
        finally:
            loop.stop()
        handled = effects(engine)
        assert len(handled) == total
        for key in KEYS:
            assert [e.seq for e in handled if e.config_key == key] == list(range(rounds[0]))
