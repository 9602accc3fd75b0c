"""(6) Dead letters that would not fit, or have nowhere to go, against the real broker.

Checks: a failure with a message far over the broker's record size still gets a letter,
its message cut by bytes with a marker, under the size limit; a record whose value alone
fills the limit gets a minimal letter (no value, ``dlq.value.dropped`` naming its size,
the original position) rather than blocking its partition; a missing dead-letter topic
is an outage (status names the fix, the partition waits, the records behind the poison
are not handled out of order), and once the topic exists the letter is written and the
partition goes on.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ringrift.errors import PoisonMessage
from ringrift.events import deadletter, replay
from ringrift.events.consumer import ConsumerLoop
from ringrift.events.producer import EventProducer
from ringrift.events.provision import create_topics, dead_letter_spec
from ringrift.events.topics import GAME_COMPLETED
from tests.integration.events.support import (
    LoopThread,
    effects,
    game_event,
    make_store,
    publish,
    read_records,
    recording_handler,
    wait_until,
)

pytestmark = pytest.mark.kafka


def test_letters_are_cut_to_fit_or_sent_without_their_value(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    topic = topic_factory(GAME_COMPLETED, 1)
    engine = make_store(tmp_path / "exporter.db")
    huge = game_event("square8_2p", 0)

    def fail(event) -> None:
        if event.event_id == huge.event_id:
            raise PoisonMessage("this game cannot be stored: " + "x" * 3_000_000)

    publish(kafka_settings, topic, [huge])
    with EventProducer(kafka_settings) as producer:  # a value that fills the limit alone
        producer.produce_raw(topic.name, "square8_2p", b"\x01" * 999_700, partition=0)
    publish(kafka_settings, topic, [game_event("square8_2p", 1)])
    loop = LoopThread(ConsumerLoop(kafka_settings, service="exporter", group=group_factory(),
                                   topics=[topic], engine=engine,
                                   handler=recording_handler("a", fail=fail)))
    try:
        wait_until(lambda: len(effects(engine)) == 1, 120, "the event behind both")
    finally:
        loop.stop()
    cut, minimal = replay.list_dead_letters(kafka_settings, topic.name)
    message = cut.context[deadletter.ERROR_MESSAGE]
    assert message.startswith("this game cannot be stored: xxx")
    assert message.endswith("bytes, cut to fit the record size limit]")
    assert cut.context[deadletter.EVENT_ID] == huge.event_id
    assert cut.context[deadletter.EVENT_TYPE] == "ringrift.selfplay.v1.GameCompleted"
    assert cut.context[deadletter.HOST] and cut.context[deadletter.SERVICE_VERSION]
    assert minimal.value is None
    assert minimal.context[deadletter.VALUE_DROPPED] == "999700"
    assert minimal.context[deadletter.OFFSET] == "1"
    assert "MalformedEnvelope" in minimal.context[deadletter.ERROR_CLASS]
    for record in read_records(kafka_settings, topic.dlq_name):
        size = len(record.value() or b"") + sum(len(k) + len(v or b"")
                                                for k, v in record.headers() or [])
        assert size < kafka_settings.max_message_bytes


def test_a_missing_dead_letter_topic_is_an_outage_until_it_exists(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    topic = topic_factory(GAME_COMPLETED, 1)
    copy = replace(topic, name=topic.name + ".nodlq")
    create_topics(kafka_settings, [copy], dead_letters=False)
    engine = make_store(tmp_path / "exporter.db")
    with EventProducer(kafka_settings) as producer:
        producer.produce_raw(copy.name, "square8_2p", b"not an envelope", partition=0)
    publish(kafka_settings, copy, [game_event("square8_2p", 1)])
    loop = LoopThread(ConsumerLoop(kafka_settings, service="exporter", group=group_factory(),
                                   topics=[copy], engine=engine,
                                   handler=recording_handler("a")))
    try:
        wait_until(lambda: loop.loop.status().outage is not None, 120, "the outage reported")
        outage = loop.loop.status().outage
        assert outage is not None and "does not exist" in outage.reason
        assert "ringrift events topics create" in outage.reason
        assert effects(engine) == [] and loop.thread.is_alive()
        create_topics(kafka_settings, [dead_letter_spec(copy)], dead_letters=False)
        wait_until(lambda: len(effects(engine)) == 1, 120, "the partition going on")
    finally:
        loop.stop()
    [letter] = replay.list_dead_letters(kafka_settings, copy.name)
    assert letter.value == b"not an envelope"
