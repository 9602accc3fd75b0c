"""The outbox relay against the real broker: one publisher per database, woken by commits.

Checks: a consumer handler's output is published once its transaction commits, by a
relay whose own polling is off (the commit wakes it); of two relays on one PostgreSQL
database only one publishes (the advisory lock);
when it stops, the other takes over and rows go out once each, in order; a commit made
by another process wakes the active relay through NOTIFY (its own polling is off); on
SQLite, of two relays on one file only one is active (the file lock).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from ringrift.events import envelope
from ringrift.events.consumer import ConsumerLoop
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import ShardWritten
from ringrift.events.outbox import enqueue
from ringrift.events.relay import OutboxRelay
from ringrift.events.topics import GAME_COMPLETED, SHARD_WRITTEN
from ringrift.storage import migrations
from ringrift.storage.database import make_engine, session_scope
from tests.integration.events.support import (
    REPO_ROOT,
    LoopThread,
    game_event,
    make_store,
    publish,
    read_topic,
    wait_until,
)

pytestmark = pytest.mark.kafka
HOUR = 3600.0


def _enqueue(engine, topic, events) -> None:
    with session_scope(engine) as session:
        for event in events:
            enqueue(session, topic, event)


def test_a_handlers_output_goes_out_when_its_transaction_commits(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    games, shards = topic_factory(GAME_COMPLETED, 1), topic_factory(SHARD_WRITTEN, 1)
    engine = make_store(tmp_path / "exporter.db")
    relay = OutboxRelay(engine, kafka_settings, idle_poll_s=HOUR)  # only a commit wakes it
    relay.start()

    def handle(event, _session):
        return [(shards, envelope.follow_up(event, ShardWritten(shard_id="s"),
                                            producer="exporter"))]

    loop = LoopThread(ConsumerLoop(kafka_settings, service="exporter", group=group_factory(),
                                   topics=[games], handler=handle, engine=engine, relay=relay))
    try:
        wait_until(lambda: relay.status().active and loop.loop.status().assigned, 60,
                   "the relay and the consumer to be ready")
        publish(kafka_settings, games, [game_event("square8_2p", 0)])
        wait_until(lambda: len(read_topic(kafka_settings, shards.name)) == 1, 120,
                   "the output published")
    finally:
        loop.stop()
        relay.stop()


@pytest.mark.postgres
def test_one_relay_per_postgres_database_publishes_and_another_takes_over(
        kafka_settings, topic_factory, postgres_url) -> None:
    topic = topic_factory(GAME_COMPLETED, 1)
    migrations.upgrade_to_head(postgres_url)
    engine = make_engine(postgres_url)
    first = OutboxRelay(engine, kafka_settings, lock_retry_s=0.5)
    second = OutboxRelay(make_engine(postgres_url), kafka_settings, lock_retry_s=0.5)
    events = [game_event("square8_2p", seq) for seq in range(6)]
    try:
        first.start()
        wait_until(lambda: first.status().active, 60, "the first relay to take the lock")
        second.start()
        _enqueue(engine, topic, events[:3])
        wait_until(lambda: len(read_topic(kafka_settings, topic.name)) == 3, 60, "3 published")
        assert not second.status().active and second.status().running
        first.stop()
        wait_until(lambda: second.status().active, 60, "the second relay to take over")
        _enqueue(engine, topic, events[3:])
        wait_until(lambda: len(read_topic(kafka_settings, topic.name)) == 6, 60, "6 published")
    finally:
        first.stop()
        second.stop()
        engine.dispose()
    assert [e.event_id for _, e in read_topic(kafka_settings, topic.name)] == [
        e.event_id for e in events]


@pytest.mark.postgres
def test_a_commit_in_another_process_wakes_the_relay(kafka_settings, topic_factory,
                                                     postgres_url) -> None:
    topic = topic_factory(GAME_COMPLETED, 1)
    migrations.upgrade_to_head(postgres_url)
    engine = make_engine(postgres_url)
    relay = OutboxRelay(engine, kafka_settings, idle_poll_s=HOUR)  # only NOTIFY can wake it
    relay.start()
    try:
        wait_until(lambda: relay.status().active, 60, "the relay to take the lock")
        script = ("import sys; from dataclasses import replace; "
                  "from ringrift.events.outbox import enqueue; "
                  "from ringrift.events.topics import GAME_COMPLETED; "
                  "from ringrift.storage.database import make_engine, session_scope; "
                  "from tests.integration.events.support import game_event; "
                  "engine = make_engine(sys.argv[1]); "
                  "topic = replace(GAME_COMPLETED, name=sys.argv[2], partitions=1)\n"
                  "with session_scope(engine) as session:\n"
                  "    enqueue(session, topic, game_event('hex8_2p', 0))\n")
        subprocess.run([sys.executable, "-c", script, postgres_url, topic.name], cwd=REPO_ROOT,
                       check=True, timeout=120)
        wait_until(lambda: len(read_topic(kafka_settings, topic.name)) == 1, 60,
                   "the other process's output published")
    finally:
        relay.stop()
        engine.dispose()


def test_one_relay_per_sqlite_file(kafka_settings, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    migrations.upgrade_to_head(url)
    relays = [OutboxRelay(make_engine(url), kafka_settings, lock_retry_s=0.2) for _ in range(2)]
    try:
        for relay in relays:
            relay.start()
        wait_until(lambda: sum(r.status().active for r in relays) == 1, 60, "one active relay")
        active = next(r for r in relays if r.status().active)
        active.stop()
        wait_until(lambda: any(r.status().active for r in relays if r is not active), 60,
                   "the other relay to take over")
    finally:
        for relay in relays:
            relay.stop()
