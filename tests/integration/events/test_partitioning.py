"""(8) Every config on a partition of its own, against the real broker.

Checks: on a twelve-partition config-keyed topic, the twelve configs of the registry land
on twelve distinct partitions (with Kafka's key hash three of them share one), whether
published directly or through the outbox and its relay, each config's events in the
order they were sent.
"""

from __future__ import annotations

import pytest

from ringrift.configs import ALL_CONFIGS
from ringrift.events.outbox import enqueue
from ringrift.events.relay import OutboxRelay
from ringrift.events.topics import GAME_COMPLETED
from ringrift.storage.database import session_scope
from tests.integration.events.support import (
    game_event,
    make_store,
    publish,
    read_records,
    read_topic,
    wait_until,
)

pytestmark = pytest.mark.kafka
PER_CONFIG = 5


def _check_layout(settings, topic) -> None:
    records = read_records(settings, topic.name)
    assert len(records) == PER_CONFIG * len(ALL_CONFIGS)
    partitions: dict[str, set[int]] = {}
    for record in records:
        partitions.setdefault(record.key().decode(), set()).add(record.partition())
    assert all(len(found) == 1 for found in partitions.values()), partitions
    assert len({found.pop() for found in partitions.values()}) == len(ALL_CONFIGS)
    by_config: dict[str, list[int]] = {}
    for _, event in read_topic(settings, topic.name):
        by_config.setdefault(event.config_key, []).append(event.payload.num_moves)
    assert by_config == {c.key: list(range(PER_CONFIG)) for c in ALL_CONFIGS}


def _events():
    return [game_event(config.key, seq) for seq in range(PER_CONFIG) for config in ALL_CONFIGS]


def test_published_events_of_the_twelve_configs_use_twelve_partitions(
        kafka_settings, topic_factory) -> None:
    topic = topic_factory(GAME_COMPLETED, 12)
    publish(kafka_settings, topic, _events())
    _check_layout(kafka_settings, topic)


def test_outbox_outputs_of_the_twelve_configs_use_twelve_partitions(
        kafka_settings, topic_factory, tmp_path) -> None:
    topic = topic_factory(GAME_COMPLETED, 12)
    engine = make_store(tmp_path / "source.db")
    relay = OutboxRelay(engine, kafka_settings, client_id="test-relay")
    relay.start()
    try:
        for event in _events():  # one transaction each, as a source (selfplay) would
            with session_scope(engine) as session:
                enqueue(session, topic, event)
        wait_until(lambda: len(read_records(kafka_settings, topic.name))
                   == PER_CONFIG * len(ALL_CONFIGS), 120, "the outbox relayed")
    finally:
        relay.stop()
    _check_layout(kafka_settings, topic)
