"""A consumer process killed or stopped at the worst moments, against the real broker.

Checks: (3) a consumer killed with SIGKILL after its handler ran (the effects are
committed in its database) but before its offsets were committed gets the records
again in the next consumer of the group, which skips them: every effect happens once,
and the group's offsets then move past them. SIGTERM: the consumer finishes, commits
its offsets, leaves the group and exits 0.
"""

from __future__ import annotations

import signal

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from prometheus_client import REGISTRY

from ringrift.events.consumer import ConsumerLoop
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import GAME_COMPLETED, TopicSpec
from tests.integration.events.support import (
    LoopThread,
    effect_count,
    effects,
    game_event,
    make_store,
    publish,
    recording_handler,
    start_child,
    wait_until,
)

pytestmark = pytest.mark.kafka


def _committed(settings: KafkaSettings, topic: TopicSpec, group: str) -> list[int]:
    consumer = Consumer(settings.client_config() | {"group.id": group})
    try:
        partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        return [tp.offset for tp in consumer.committed(partitions, timeout=30)]
    finally:
        consumer.close()


def test_killed_before_commit_redelivers_and_the_effect_happens_once(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    topic = topic_factory(GAME_COMPLETED, partitions=2)
    group, db = group_factory(), tmp_path / "exporter.db"
    engine = make_store(db)
    events = [game_event(key, seq) for seq in range(10) for key in ("square8_2p", "hex8_3p")]
    publish(kafka_settings, topic, events)

    child = start_child(kafka_settings, topic, group, db, tmp_path / "child.log")
    try:
        wait_until(lambda: effect_count(engine) == len(events), 120,
                   "the child to handle every event")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    # Handled and committed in the database, yet no offset reached the broker.
    assert all(offset < 0 for offset in _committed(kafka_settings, topic, group)), \
        (tmp_path / "child.log").read_text()

    skipped = ("ringrift_events_duplicates_skipped_total", {"topic": topic.name, "group": group})
    loop = LoopThread(ConsumerLoop(kafka_settings, service="exporter", group=group,
                                   topics=[topic], handler=recording_handler("restarted"),
                                   engine=engine))
    try:
        # Waits out the dead member's session timeout, then gets every record again.
        wait_until(lambda: (REGISTRY.get_sample_value(*skipped) or 0) >= len(events), 120,
                   "the redelivered records to be skipped as already processed")
    finally:
        loop.stop()
    handled = effects(engine)
    assert len(handled) == len(events)
    assert {e.event_id for e in handled} == {e.event_id for e in events}
    assert {e.consumer for e in handled} == {"child"}
    assert sum(_committed(kafka_settings, topic, group)) == len(events)


def test_sigterm_finishes_commits_and_leaves_the_group(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    topic = topic_factory(GAME_COMPLETED, partitions=2)
    group, db = group_factory(), tmp_path / "exporter.db"
    engine = make_store(db)
    events = [game_event("square8_2p", seq) for seq in range(15)]
    publish(kafka_settings, topic, events)

    child = start_child(kafka_settings, topic, group, db, tmp_path / "child.log")
    try:
        wait_until(lambda: effect_count(engine) == len(events), 120, "every event handled")
        child.send_signal(signal.SIGTERM)
        assert child.wait(60) == 0, (tmp_path / "child.log").read_text()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    log = (tmp_path / "child.log").read_text()
    assert "left consumer group" in log
    # Only the shutdown commit can have sent these: auto-commit was set to never fire.
    assert sum(max(o, 0) for o in _committed(kafka_settings, topic, group)) == len(events), log
    admin = AdminClient(kafka_settings.client_config())
    description = admin.describe_consumer_groups([group])[group].result(timeout=30)
    assert description.members == []
