"""Events a handler emits, against the real broker.

Checks: each input event yields its output event on the output topic, partitioned by
the same config key, with an id derived from the input's id and the input's
correlation id; a redelivered input (the same record produced again) is skipped and
emits nothing; the backbone's metrics count what happened.
"""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer
from prometheus_client import REGISTRY

from ringrift.events import envelope
from ringrift.events.consumer import ConsumerLoop
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import ShardWritten
from ringrift.events.producer import EventProducer
from ringrift.events.topics import GAME_COMPLETED, SHARD_WRITTEN
from tests.integration.events.support import (
    LoopThread,
    effect_count,
    game_event,
    make_store,
    publish,
    recording_handler,
    wait_until,
)

pytestmark = pytest.mark.kafka


def test_outputs_carry_derived_ids_and_are_not_re_emitted(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    games, shards = topic_factory(GAME_COMPLETED, 2), topic_factory(SHARD_WRITTEN, 2)
    group, engine = group_factory(), make_store(tmp_path / "exporter.db")
    record = recording_handler("exporter")

    def handle(event, session):
        record(event, session)
        shard = ShardWritten(shard_id=f"shard-{event.payload.game_id}",
                             config_key=event.config_key, num_games=1)
        return [(shards, envelope.follow_up(event, shard, producer="exporter"))]

    inputs = [game_event(key, seq) for seq in range(5) for key in ("square8_2p", "hex8_2p")]
    publish(kafka_settings, games, inputs)
    loop = LoopThread(ConsumerLoop(kafka_settings, service="exporter", group=group,
                                   topics=[games], handler=handle, engine=engine))
    try:
        wait_until(lambda: effect_count(engine) == len(inputs), 120, "inputs handled")
        with EventProducer(kafka_settings) as producer:  # a redelivery of the first input
            producer.produce_raw(games.name, inputs[0].config_key, envelope.encode(inputs[0]))
        skipped = ("ringrift_events_duplicates_skipped_total",
                   {"topic": games.name, "group": group})
        wait_until(lambda: REGISTRY.get_sample_value(*skipped) == 1, 120, "the repeat skipped")
    finally:
        loop.stop()

    outputs = _read_all(kafka_settings, shards.name, expected=len(inputs))
    assert len(outputs) == len(inputs)
    by_cause = {event.causation_id: (key, event) for key, event in outputs}
    for cause in inputs:
        key, output = by_cause[cause.event_id]
        assert key == cause.config_key.encode()
        assert output.event_id == envelope.derive_event_id(cause.event_id,
                                                           "ringrift.selfplay.v1.ShardWritten")
        assert output.correlation_id == cause.correlation_id
        assert output.payload.shard_id == f"shard-{cause.payload.game_id}"
    assert REGISTRY.get_sample_value("ringrift_events_consumed_total",
                                     {"topic": games.name, "group": group}) == len(inputs) + 1
    assert REGISTRY.get_sample_value("ringrift_events_published_total",
                                     {"topic": shards.name}) == len(inputs)
    assert REGISTRY.get_sample_value("ringrift_events_handling_lag_seconds_count",
                                     {"group": group}) == len(inputs)


def _read_all(settings, topic: str, expected: int) -> list:
    """(key, event) of every record on ``topic``: at least ``expected``, then 3 s of quiet
    so that a re-emitted output would be seen too."""
    reader = Consumer(settings.client_config() | {
        "group.id": f"reader-{uuid.uuid4().hex}", "auto.offset.reset": "earliest"})
    reader.subscribe([topic])
    found: list = []
    try:
        wait_until(lambda: _poll_into(reader, found) >= expected, 60, f"{expected} outputs")
        while (message := reader.poll(3.0)) is not None:
            if message.error() is None:
                found.append((message.key(), envelope.decode(message.value())))
    finally:
        reader.close()
    return found


def _poll_into(reader: Consumer, found: list) -> int:
    message = reader.poll(0.5)
    if message is not None and message.error() is None:
        found.append((message.key(), envelope.decode(message.value())))
    return len(found)
