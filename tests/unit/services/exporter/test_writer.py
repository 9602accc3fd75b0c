"""The shard writer driven by hand, as the runtime drives it (timer check, source steps), on
SQLite and PostgreSQL, without a broker.

Checks: shards are cut once ``--shard-samples`` are pending, every game in exactly one shard,
truncated games in the window without samples, ``ShardWritten`` in the outbox with the source
models (the uniform evaluator left out); a queue below the threshold waits until its oldest
game is older than ``--max-delay``, then is flushed by the timer's check; a stored game that
does not replay is rejected with its reason (its processed id dropped, so a replayed dead
letter is handled again) and the rest are sharded; a writer killed mid-build leaves every
game pending and the next one shards them all once; a replica builds only the configs it
consumes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ringrift.events import envelope
from ringrift.events.idempotency import mark_processed, processed_among
from ringrift.events.outbox import OutboxRow
from ringrift.events.topics import SHARD_WRITTEN
from ringrift.service.health import Heartbeat
from ringrift.service.hooks import Namespace, SourceContext
from ringrift.storage import migrations
from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.storage.database import make_engine, session_scope
from ringrift.training.shards import read_shard
from services.exporter.handlers import GameStore
from services.exporter.settings import ExporterSettings
from services.exporter.tables import GameStatus, StoredGame
from services.exporter.writer import ShardWriter
from tests.utils.exporter_games import (
    game_completed,
    game_event,
    games_by_shard,
    self_played,
    shard_rows,
)

GROUP = "exporter"


@pytest.fixture
def engine(database_url: str):
    migrations.upgrade_to_head(database_url, "exporter")
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(tmp_path: Path) -> DirectoryArtifactStore:
    return DirectoryArtifactStore(tmp_path / "artifacts")


def context(engine) -> SourceContext:
    return SourceContext(engine, Namespace(""), Heartbeat(), lambda: None, lambda: False)


def writer_for(engine, store, **settings) -> ShardWriter:
    return ShardWriter(engine, store, ExporterSettings(consumer_group=GROUP, **settings))


def ingest(engine, writer: ShardWriter, payloads) -> None:
    handler = GameStore(writer.add)
    for payload in payloads:
        event = game_event(payload)
        with session_scope(engine) as session:
            handler(event, session)
            mark_processed(session, GROUP, [event.event_id])


def run(writer: ShardWriter, engine, limit: int = 10_000) -> None:
    for _ in range(limit):
        if writer.step(context(engine)) == 0:
            return
    raise AssertionError("the writer never became idle")


def check(writer: ShardWriter, engine) -> None:
    with session_scope(engine) as session:
        assert writer.check(session) == []


def written(engine) -> list:
    with session_scope(engine, read_only=True) as session:
        values = session.scalars(select(OutboxRow.value).order_by(OutboxRow.id)).all()
    return [envelope.decode(value, SHARD_WRITTEN).payload for value in values]


def test_shards_are_cut_at_shard_samples_each_game_in_one(engine, store) -> None:
    games = self_played(7, truncated_every=4)
    writer = writer_for(engine, store, shard_samples=120, build_step_s=0.01)
    seats = [["m1", "uniform"], ["uniform", "uniform"]]
    ingest(engine, writer, [game_completed(g, seats[i % 2]) for i, g in enumerate(games)])
    run(writer, engine)
    check(writer, engine)
    run(writer, engine)  # nothing left is due: the rest waits for --max-delay
    shards = shard_rows(engine)
    events = written(engine)
    assert len(shards) == len(events) >= 2
    by_shard = games_by_shard(engine)
    assert [g for row in shards for g in by_shard[row["shard_id"]]] + by_shard.get(None, []) \
        == [g.game_id for g in games]
    for row, event in zip(shards, events, strict=True):
        assert (event.shard_id, event.num_samples, event.num_games) == (
            row["shard_id"], row["num_samples"], row["num_games"])
        assert row["num_samples"] >= 120 and row["trigger"] == "samples"
        assert event.source_model_ids == ["m1"]
        data = read_shard(store.local_path(event.shard.uri, event.shard.sha256))
        assert len(data) == event.num_samples
        truncated = {g.game_id for g in games if g.truncated}
        assert not truncated & set(data.metadata.game_ids)
    assert shards[-1]["window_end_sequence"] == sum(row["num_games"] for row in shards)


def test_a_queue_below_the_threshold_waits_for_max_delay(engine, store) -> None:
    waiting = writer_for(engine, store, shard_samples=10 ** 6, max_delay_s=3600)
    ingest(engine, waiting, [game_completed(g) for g in self_played(2)])
    check(waiting, engine)
    run(waiting, engine)
    assert shard_rows(engine) == []

    due = writer_for(engine, store, shard_samples=10 ** 6, max_delay_s=0.001)
    check(due, engine)
    run(due, engine)
    (row,) = shard_rows(engine)
    assert row["trigger"] == "max_delay" and row["num_games"] == 2
    assert row["source_model_ids"] == []  # uniform play only
    assert list(games_by_shard(engine)) == [row["shard_id"]]


def test_a_game_that_does_not_replay_is_rejected_and_dead_lettered_later(engine, store) -> None:
    games = self_played(3)
    ranking = list(games[1].ranking)  # the event says otherwise than the replay
    lying = game_completed(games[1], ranking=ranking[::-1] if ranking[0] != ranking[1]
                           else [1, 2])
    writer = writer_for(engine, store, shard_samples=10 ** 6, max_delay_s=0.001)
    ingest(engine, writer, [game_completed(games[0]), lying, game_completed(games[2])])
    with session_scope(engine, read_only=True) as session:
        lying_event = session.scalars(select(StoredGame.event_id).where(
            StoredGame.game_id == games[1].game_id)).one()
    check(writer, engine)
    run(writer, engine)
    (row,) = shard_rows(engine)
    assert row["num_games"] == 2 and row["window_end_sequence"] == 3
    with session_scope(engine, read_only=True) as session:
        game = session.scalars(select(StoredGame).where(
            StoredGame.game_id == games[1].game_id)).one()
        assert game.status == GameStatus.REJECTED and "the replay ranks" in game.reason
        assert processed_among(session, GROUP, [lying_event]) == set()
    assert writer.problem() is None


def test_a_writer_killed_mid_build_leaves_the_games_to_the_next(engine, store) -> None:
    games = self_played(4)
    first = writer_for(engine, store, shard_samples=10 ** 6, max_delay_s=0.001,
                       build_step_s=0.001)
    ingest(engine, first, [game_completed(g) for g in games])
    check(first, engine)
    assert first.step(context(engine)) == 1  # the build has started; then the process dies
    assert shard_rows(engine) == []
    second = writer_for(engine, store, shard_samples=10 ** 6, max_delay_s=0.001)
    check(second, engine)
    run(second, engine)
    (row,) = shard_rows(engine)
    assert games_by_shard(engine) == {row["shard_id"]: [g.game_id for g in games]}


def test_a_replica_builds_only_the_configs_it_consumes(engine, store) -> None:
    writer = ShardWriter(engine, store, ExporterSettings(shard_samples=1, max_delay_s=0.001),
                         owned=lambda: {"hex8_2p"})
    ingest(engine, writer, [game_completed(self_played(1)[0])])
    check(writer, engine)
    run(writer, engine)
    assert shard_rows(engine) == []
