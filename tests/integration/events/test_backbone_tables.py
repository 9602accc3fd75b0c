"""The backbone's tables on both backends, as the migrations make them (no broker needed).

Checks: the relay's wake-up comes when the outermost transaction commits, not when a
handler's savepoint is released, and not after a rollback; the outbox refuses a second
output with an event id, in one transaction or one already in the outbox, with a message
naming the fix, and a savepoint around the refused one keeps the rest of the transaction;
rows keep the config's partition and the key; processed ids older than the retention are
pruned (indexed column), younger ones and other groups' kept; the retention follows the
topics (compacted: kept for good); finished jobs past their retention are pruned,
unfinished ones never.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select, update

from ringrift.events.envelope import follow_up, new_event
from ringrift.events.errors import DuplicateEventId
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted, ShardWritten
from ringrift.events.idempotency import (
    ProcessedEvent,
    mark_processed,
    processed_among,
    prune_processed,
    retention_for,
)
from ringrift.events.jobs import JobRow, JobState
from ringrift.events.maintenance import Pruner
from ringrift.events.outbox import OutboxRow, enqueue, register_waker, unregister_waker
from ringrift.events.topics import DAY_MS, GAME_COMPLETED, MODEL_CURRENT, SHARD_WRITTEN
from ringrift.storage import migrations
from ringrift.storage.database import make_engine, session_scope


@pytest.fixture
def engine(database_url: str):
    migrations.upgrade_to_head(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _cause():
    return new_event(GameCompleted(game_id="g"), config_key="hex8_3p", producer="selfplay")


def test_the_relay_is_woken_by_the_commit_not_by_a_savepoint(engine) -> None:
    wakes: list[int] = []

    def wake() -> None:
        wakes.append(1)

    register_waker(engine, wake)
    try:
        with session_scope(engine) as session:
            with session.begin_nested():  # as the consumer loop runs each handler
                enqueue(session, SHARD_WRITTEN, follow_up(_cause(), ShardWritten(),
                                                          producer="exporter"))
            assert wakes == [], "woken before the row was committed"
        assert wakes == [1]
        with pytest.raises(RuntimeError), session_scope(engine) as session:
            enqueue(session, SHARD_WRITTEN, follow_up(_cause(), ShardWritten(),
                                                      producer="exporter"))
            raise RuntimeError("rolled back")
        assert wakes == [1]
    finally:
        unregister_waker(engine, wake)


def test_the_outbox_refuses_a_second_output_with_one_event_id(engine) -> None:
    cause = _cause()
    first = follow_up(cause, ShardWritten(shard_id="a"), producer="exporter")
    again = follow_up(cause, ShardWritten(shard_id="b"), producer="exporter")  # same name
    other = follow_up(cause, ShardWritten(shard_id="c"), producer="exporter", name="second")
    with session_scope(engine) as session:
        enqueue(session, SHARD_WRITTEN, first)
        with pytest.raises(DuplicateEventId, match=r"follow_up\(cause, payload, name=\.\.\.\)"):
            with session.begin_nested():
                enqueue(session, SHARD_WRITTEN, again)
        enqueue(session, SHARD_WRITTEN, other)  # the transaction goes on
    with pytest.raises(DuplicateEventId, match="already in the outbox"), \
            session_scope(engine) as session:
        enqueue(session, SHARD_WRITTEN, again)
    with session_scope(engine, read_only=True) as session:
        rows = session.execute(select(OutboxRow.event_id, OutboxRow.partition, OutboxRow.key,
                                      OutboxRow.sent_at).order_by(OutboxRow.id)).all()
    assert [r.event_id for r in rows] == [first.event_id, other.event_id]
    # hex8_3p is config 7 of the registry: partition 7 of 12, keyed by the config.
    assert {(r.partition, r.key, r.sent_at) for r in rows} == {(7, b"hex8_3p", None)}


def test_processed_ids_past_their_retention_are_pruned(engine) -> None:
    with session_scope(engine) as session:
        mark_processed(session, "exporter", ["old-1", "old-2", "new"])
        mark_processed(session, "trainer", ["old-1"])
        session.execute(update(ProcessedEvent).where(ProcessedEvent.event_id.like("old-%"))
                        .values(processed_at=datetime.now(UTC) - timedelta(days=40)))
    cutoff = datetime.now(UTC) - timedelta(days=31)
    assert prune_processed(engine, "exporter", cutoff, chunk=1) == 2
    with session_scope(engine, read_only=True) as session:
        assert processed_among(session, "exporter", ["old-1", "old-2", "new"]) == {"new"}
        assert processed_among(session, "trainer", ["old-1"]) == {"old-1"}
    indexes = {i["name"] for i in inspect(engine).get_indexes("processed_events")}
    assert "ix_processed_events_processed_at" in indexes


def test_the_retention_of_processed_ids_follows_the_topics() -> None:
    month = replace(GAME_COMPLETED, retention_ms=30 * DAY_MS)
    year = replace(GAME_COMPLETED, retention_ms=365 * DAY_MS)
    assert retention_for([month, year]) == timedelta(days=366)
    assert retention_for([month, MODEL_CURRENT]) is None  # compacted: records stay
    assert retention_for([month], days=7) == timedelta(days=7)


def test_finished_jobs_past_the_retention_are_pruned(engine) -> None:
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        for job_id, state, finished in (("old-done", JobState.DONE, now - timedelta(days=9)),
                                        ("old-failed", JobState.FAILED, now - timedelta(days=9)),
                                        ("new-done", JobState.DONE, now),
                                        ("old-running", JobState.RUNNING, None)):
            session.add(JobRow(job_id=job_id, consumer_group="trainer", kind="train", params={},
                               topic="t", partition=0, offset=0, state=state, attempts=0,
                               starts=1, created_at=now - timedelta(days=10),
                               finished_at=finished))
    Pruner(engine, "trainer", None, timedelta(days=7)).maybe_prune()
    with session_scope(engine, read_only=True) as session:
        left = set(session.scalars(select(JobRow.job_id)))
    assert left == {"new-done", "old-running"}
