"""(2) The transactional outbox against the real broker, with real processes killed.

Checks: a consumer killed after its transaction committed (effects, processed id, output
rows) but before the relay published gets its output out exactly once after a restart,
and the inputs are not handled again; a consumer killed inside its transaction (effects
and output written, not committed) leaves nothing downstream and nothing in its store,
and after the restart the input is handled once and its output published once; a handler
that emits two outputs with one event id is refused with a clear error (its input
dead-lettered, nothing published) and the consumer goes on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from ringrift.events import deadletter, envelope, replay
from ringrift.events.consumer import ConsumerLoop
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import ShardWritten
from ringrift.events.outbox import OutboxRow, enqueue
from ringrift.events.topics import GAME_COMPLETED, SHARD_WRITTEN
from ringrift.storage.database import session_scope
from tests.integration.events.support import (
    LoopThread,
    effect_count,
    effects,
    game_event,
    kill,
    make_store,
    publish,
    read_records,
    read_topic,
    recording_handler,
    start_child,
    terminate,
    wait_until,
)

pytestmark = pytest.mark.kafka
def outbox_rows(engine, *, unsent: bool = False) -> int:
    query = select(func.count()).select_from(OutboxRow)
    if unsent:
        query = query.where(OutboxRow.sent_at.is_(None))
    with session_scope(engine, read_only=True) as session:
        return int(session.scalar(query) or 0)


def output_id(cause) -> str:
    return envelope.derive_event_id(cause.event_id, "ringrift.selfplay.v1.ShardWritten")


def test_killed_after_commit_before_publish_the_output_appears_once_after_restart(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    games, shards = topic_factory(GAME_COMPLETED, 2), topic_factory(SHARD_WRITTEN, 2)
    group, db, log = group_factory(), tmp_path / "exporter.db", tmp_path / "child.log"
    engine = make_store(db)
    inputs = [game_event(key, seq) for seq in range(3) for key in ("square8_2p", "hex8_3p")]
    publish(kafka_settings, games, inputs)

    # The relay is held back: the kill lands after the commit and before any publish.
    child = start_child(kafka_settings, games, group, db, log, "--output-topic", shards.name,
                        "--hold-relay")
    try:
        wait_until(lambda: outbox_rows(engine, unsent=True) == len(inputs), 120,
                   "the outputs committed in the outbox")
    finally:
        kill(child)
    assert effect_count(engine) == len(inputs)
    assert read_records(kafka_settings, shards.name) == [], "published before the kill"

    child = start_child(kafka_settings, games, group, db, log, "--output-topic", shards.name)
    try:
        wait_until(lambda: outbox_rows(engine, unsent=True) == 0, 120, "the outbox relayed")
    finally:
        terminate(child, log)
    outputs = read_topic(kafka_settings, shards.name)
    assert sorted(e.event_id for _, e in outputs) == sorted(output_id(e) for e in inputs)
    assert {e.consumer for e in effects(engine)} == {"child"}
    assert effect_count(engine) == len(inputs), "an input was handled again"
    for key, event in outputs:  # each output on its config's partition, keyed by it
        assert key == event.config_key.encode()


def test_killed_before_commit_nothing_appears_and_the_input_is_handled_once_after_restart(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    games, shards = topic_factory(GAME_COMPLETED, 1), topic_factory(SHARD_WRITTEN, 1)
    group, db, log = group_factory(), tmp_path / "exporter.db", tmp_path / "child.log"
    engine = make_store(db)
    flag = tmp_path / "block"
    flag.touch()
    [event] = inputs = [game_event("square8_2p", 0)]
    publish(kafka_settings, games, inputs)

    child = start_child(kafka_settings, games, group, db, log, "--output-topic", shards.name,
                        "--block-flag", str(flag))
    try:
        wait_until(Path(f"{flag}.inside").exists, 120, "the handler inside its transaction")
    finally:
        kill(child)
    assert effect_count(engine) == 0 and outbox_rows(engine) == 0
    assert read_records(kafka_settings, shards.name) == []

    flag.unlink()
    child = start_child(kafka_settings, games, group, db, log, "--output-topic", shards.name)
    try:
        wait_until(lambda: outbox_rows(engine) == 1 and outbox_rows(engine, unsent=True) == 0,
                   120, "the input handled and its output relayed")
    finally:
        terminate(child, log)
    assert [e.event_id for _, e in read_topic(kafka_settings, shards.name)] == [output_id(event)]
    assert [e.event_id for e in effects(engine)] == [event.event_id]


def test_two_outputs_with_one_event_id_are_refused_with_a_clear_error(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    games, shards = topic_factory(GAME_COMPLETED, 1), topic_factory(SHARD_WRITTEN, 1)
    engine = make_store(tmp_path / "exporter.db")
    record = recording_handler("exporter")

    def handle(event, session):
        record(event, session)
        outputs = [envelope.follow_up(event, ShardWritten(shard_id=f"s{n}"), producer="exporter")
                   for n in range(2 if event.payload.num_moves == 0 else 1)]
        return [(shards, output) for output in outputs]  # same type, no names: same id

    inputs = [game_event("square8_2p", seq) for seq in range(4)]
    with session_scope(engine) as session:  # an output of input 2's id is in the outbox already
        enqueue(session, shards, envelope.follow_up(inputs[2], ShardWritten(shard_id="early"),
                                                    producer="exporter"))
    publish(kafka_settings, games, inputs)
    loop = LoopThread(ConsumerLoop(kafka_settings, service="exporter", group=group_factory(),
                                   topics=[games], handler=handle, engine=engine))
    try:
        wait_until(lambda: effect_count(engine) == 2, 120, "the good events beside the bad ones")
        wait_until(lambda: outbox_rows(engine, unsent=True) == 0 and outbox_rows(engine) == 3,
                   60, "the good outputs relayed")
    finally:
        loop.stop()
    letters = replay.list_dead_letters(kafka_settings, games.name)
    assert [int(letter.context[deadletter.OFFSET]) for letter in letters] == [0, 2]
    for letter in letters:
        assert letter.context[deadletter.ERROR_CLASS] == "ringrift.events.errors.DuplicateEventId"
        assert "follow_up(cause, payload, name=...)" in letter.context[deadletter.ERROR_MESSAGE]
        assert letter.context[deadletter.ATTEMPTS] == "1"  # poison: never retried
    assert [e.seq for e in effects(engine)] == [1, 3]  # the refused handlers' effects undone
    assert [e.payload.shard_id for _, e in read_topic(kafka_settings, shards.name)] == [
        "early", "s0", "s0"]
