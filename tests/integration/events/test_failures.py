"""(1, 4, 5) How the loop treats failures, against the real broker.

Checks: a handler reporting an outage (``RetryableError``) is retried far beyond
``max_attempts`` without a dead letter, its partition paused, the loop's status naming the
outage and the lag counting the records waiting, until the store is back; one failing
record in a batch does not re-run the handlers of the others (a savepoint per record);
records already polled from partitions that a rebalance revokes are dropped, never
handled beside their new owner, and every event is still handled once, in order; a
handler whose ORM flush fails is rolled back alone (or, failing inside an autoflush, the
batch goes one record at a time), its effects never doubled, and it is dead-lettered.
"""

from __future__ import annotations

import logging
import re
from collections import Counter

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from ringrift.errors import RetryableError
from ringrift.events import replay
from ringrift.events.consumer import ConsumerLoop
from ringrift.events.producer import partition_for
from ringrift.events.topics import GAME_COMPLETED
from ringrift.storage.database import session_scope
from tests.integration.events.support import (
    Effect,
    LoopThread,
    effect_count,
    effects,
    game_event,
    make_store,
    publish,
    recording_handler,
    wait_until,
)

pytestmark = pytest.mark.kafka


def test_an_outage_is_retried_without_limit_paused_and_reported(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    topic = topic_factory(GAME_COMPLETED, 1)
    group, engine = group_factory(), make_store(tmp_path / "exporter.db")
    store = {"up": False}

    def fail(_event) -> None:
        if not store["up"]:
            raise RetryableError("artifact store unavailable")

    publish(kafka_settings, topic, [game_event("square8_2p", seq) for seq in range(10)])
    loop = LoopThread(ConsumerLoop(kafka_settings, service="exporter", group=group,
                                   topics=[topic], engine=engine,
                                   handler=recording_handler("a", fail=fail)))
    failures = ("ringrift_events_handler_failures_total",
                {"topic": topic.name, "group": group, "error": "RetryableError"})
    try:
        wait_until(lambda: (REGISTRY.get_sample_value(*failures) or 0)
                   > 3 * kafka_settings.max_attempts, 120, "many more attempts than the limit")
        status = loop.loop.status()
        assert status.outage is not None and "artifact store unavailable" in status.outage.reason
        assert status.outage.partitions == ((topic.name, 0),)
        assert (topic.name, 0) in status.paused and status.records_in_hand == 10
        assert loop.loop.consumer_lag() == {(topic.name, 0): 10}
        assert REGISTRY.get_sample_value("ringrift_events_outage", {"group": group}) == 1
        assert REGISTRY.get_sample_value("ringrift_events_consumer_lag_records", {
            "group": group, "topic": topic.name, "partition": "0"}) == 10
        store["up"] = True
        wait_until(lambda: effect_count(engine) == 10, 120, "the records once the store is back")
        wait_until(lambda: loop.loop.status().outage is None, 60, "the outage to clear")
        assert loop.loop.consumer_lag() == {(topic.name, 0): 0}
    finally:
        loop.stop()
    assert [e.seq for e in effects(engine)] == list(range(10))
    assert replay.list_dead_letters(kafka_settings, topic.name) == []


def test_one_failure_in_a_batch_does_not_re_run_the_others(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    topic = topic_factory(GAME_COMPLETED, 2)
    engine = make_store(tmp_path / "exporter.db")
    keys = ("square8_2p", "square8_3p")  # partitions 0 and 1
    events = [game_event(key, seq) for seq in range(5) for key in keys]
    failing = events[4]  # square8_2p #2
    calls: Counter[str] = Counter()
    sessions: dict[str, list[int]] = {}
    record = recording_handler("a")

    def handle(event, session):
        calls[event.event_id] += 1
        sessions.setdefault(event.event_id, []).append(id(session))
        if event.event_id == failing.event_id and calls[event.event_id] == 1:
            record(event, session)  # an effect that must be rolled back with its savepoint
            raise ValueError("first try fails")
        record(event, session)

    publish(kafka_settings, topic, events)  # waiting before the loop starts: one batch
    loop = LoopThread(ConsumerLoop(kafka_settings, service="exporter", group=topic.name,
                                   topics=[topic], engine=engine, handler=handle))
    try:
        wait_until(lambda: effect_count(engine) == len(events), 120, "every event handled")
    finally:
        loop.stop()
    first_try = sessions[failing.event_id][0]
    batch_mates = [e for e in events if e is not failing and sessions[e.event_id][0] == first_try]
    assert batch_mates, "the failing record was alone in its batch: nothing was tested"
    assert calls[failing.event_id] == 2
    assert all(calls[e.event_id] == 1 for e in events if e is not failing), calls
    for key in keys:
        assert [e.seq for e in effects(engine) if e.config_key == key] == list(range(5))


def test_records_polled_from_a_revoked_partition_are_dropped(
        kafka_settings, topic_factory, group_factory, tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="ringrift.events.consumer")
    topic = topic_factory(GAME_COMPLETED, 4)
    group, engine = group_factory(), make_store(tmp_path / "exporter.db")
    keys = ("square8_2p", "square8_3p", "square8_4p", "square19_2p")  # partitions 0..3
    events = [game_event(key, seq) for seq in range(10) for key in keys]
    a_store = {"up": False}
    a_calls: list[tuple[int, tuple]] = []
    record_a = recording_handler("A")
    loops: dict[str, LoopThread] = {}

    def handle_a(event, session):
        # Which partition this event is on, and what A owns at this moment.
        a_calls.append((partition_for(topic, event), loops["A"].loop.status().assigned))
        if not a_store["up"]:
            raise RetryableError("A's store is away")
        record_a(event, session)

    publish(kafka_settings, topic, events)
    loops["A"] = LoopThread(ConsumerLoop(kafka_settings, service="exporter", group=group,
                                         topics=[topic], engine=engine, handler=handle_a))
    try:  # A polls every record, then holds them: its store is away
        wait_until(lambda: loops["A"].loop.status().records_in_hand == len(events), 120,
                   "A to hold every record")
        loops["B"] = LoopThread(ConsumerLoop(kafka_settings, service="exporter", group=group,
                                             topics=[topic], engine=engine,
                                             handler=recording_handler("B")))
        wait_until(lambda: loops["B"].loop.status().assigned
                   and len(loops["A"].loop.status().assigned) < len(keys), 120,
                   "B to take partitions from A")
        a_store["up"] = True
        wait_until(lambda: effect_count(engine) == len(events), 120, "every event handled")
    finally:
        for loop in loops.values():
            loop.stop()
    for partition, owned in a_calls:
        assert (topic.name, partition) in owned, "A handled a record of a partition it lost"
    dropped = [int(n) for n in re.findall(r"revoked: .*\((\d+) polled record", caplog.text)]
    assert sum(dropped) > 0, "no records were in hand at the revocation: nothing was tested"
    handled = effects(engine)
    assert len(handled) == len(events)
    for key in keys:
        assert [e.seq for e in handled if e.config_key == key] == list(range(10)), key
    assert {e.consumer for e in handled} == {"A", "B"}


def test_a_failing_orm_flush_is_rolled_back_alone_or_the_batch_goes_one_by_one(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    # A handler whose ORM changes fail at the flush after it returns: that record alone is
    # rolled back (an ORM savepoint around the flush). One whose changes fail inside it, at
    # an autoflush: SQLAlchemy ends the whole transaction, the batch goes one record per
    # transaction; either way every effect happens once and the bad records are dead-lettered.
    topic = topic_factory(GAME_COMPLETED, 2)
    engine = make_store(tmp_path / "exporter.db")
    with session_scope(engine) as session:
        session.add(Effect(id=1, event_id="existing", config_key="-", seq=-1, consumer="-"))
    events = [game_event(key, seq) for seq in range(4) for key in ("square8_2p", "square8_3p")]
    at_flush, at_autoflush = events[2], events[5]  # square8_2p #1, square8_3p #2
    calls: Counter[str] = Counter()
    record = recording_handler("a")

    def handle(event, session):
        calls[event.event_id] += 1
        if event.event_id in (at_flush.event_id, at_autoflush.event_id):
            session.add(Effect(id=1, event_id=event.event_id, config_key="x", seq=0,
                               consumer="a"))  # the primary key is taken
            if event.event_id == at_autoflush.event_id:
                session.scalar(select(Effect.id).limit(1))  # autoflush: fails in here
            return
        record(event, session)

    publish(kafka_settings, topic, events)
    loop = LoopThread(ConsumerLoop(kafka_settings, service="exporter", group=topic.name,
                                   topics=[topic], engine=engine, handler=handle))
    try:
        wait_until(lambda: len(replay.list_dead_letters(kafka_settings, topic.name)) == 2, 180,
                   "both bad records dead-lettered")
        wait_until(lambda: effect_count(engine) == len(events) - 2 + 1, 120,
                   "the good records handled")
    finally:
        loop.stop()
    good = [e for e in events if e.event_id not in (at_flush.event_id, at_autoflush.event_id)]
    assert sorted(e.event_id for e in effects(engine) if e.consumer == "a") == sorted(
        e.event_id for e in good)
    # A batch that an autoflush ended counts no attempt (its records go again one by one),
    # so a record tried in it (rather than alone: the poll decides) is called once more.
    attempts = kafka_settings.max_attempts
    assert attempts <= calls[at_flush.event_id] <= attempts + 1
    assert attempts <= calls[at_autoflush.event_id] <= attempts + 1
    assert all(calls[e.event_id] <= 2 for e in good), calls
    letters = replay.list_dead_letters(kafka_settings, topic.name)
    assert {letter.context["dlq.error.class"] for letter in letters} == {
        "sqlalchemy.exc.IntegrityError"}
