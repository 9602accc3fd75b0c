"""The file import and the shard path, in process, on SQLite and PostgreSQL.

Checks: completed records are stored once and end in shards, with the outbox holding one
``ShardWritten`` per shard that names the artifact, its counts and the game window; the
artifact reads back with the library's reader (one-hot policy targets: the move played);
unreadable, incomplete and illegal records are reported and left out; a second import of
the same file changes nothing; ``--shard-samples`` cuts a shard each time it is reached,
every game in exactly one, window sequences counting the games; an import killed after
storing its games is finished by the next run (games replayed from the store, sharded once);
a stored game that no longer replays is rejected with its reason while the others are sharded; a window another
writer sharded meanwhile rolls back.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from ringrift.events import envelope
from ringrift.events.outbox import OutboxRow
from ringrift.events.topics import SHARD_WRITTEN
from ringrift.storage import migrations
from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.storage.database import make_engine, session_scope
from ringrift.training.shards import read_shard
from services.exporter import shards
from services.exporter.games import pending
from services.exporter.importer import Importer, import_id
from services.exporter.tables import GameStatus, Origin, QueueTotals, StoredGame
from tests.utils.exporter_games import (
    games_by_shard,
    incomplete,
    records,
    shard_rows,
    write_jsonl,
)


@pytest.fixture
def engine(database_url: str):
    migrations.upgrade_to_head(database_url, "exporter")
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(tmp_path: Path) -> DirectoryArtifactStore:
    return DirectoryArtifactStore(tmp_path / "artifacts")


def importer(engine, store, shard_samples: int = 1_000_000, lines: list | None = None):
    return Importer(engine, store, shard_samples=shard_samples, shard_topic=SHARD_WRITTEN,
                    report=(lines if lines is not None else []).append)


def outbox_events(engine) -> list:
    with session_scope(engine, read_only=True) as session:
        values = session.scalars(select(OutboxRow.value).order_by(OutboxRow.id)).all()
    return [envelope.decode(value, SHARD_WRITTEN) for value in values]


def test_completed_records_are_stored_once_and_sharded(engine, store, tmp_path) -> None:
    good = list(records(4))
    moves = good[0].moves
    illegal = replace(good[0], id="twice", moves=[moves[0], moves[0], *moves[2:]])
    path = write_jsonl(tmp_path / "games.jsonl", [good[0], "{not json", good[1], illegal,
                                                  incomplete(good[2]), good[2], good[3]])
    lines: list = []
    run = importer(engine, store, lines=lines)
    run.import_file(path)
    run.finish()
    totals = run.totals.summary()
    assert totals | {"samples": 0} == {"totals": True, "records": 7, "stored": 4,
                                       "duplicates": 0, "unreadable": 1, "illegal": 1,
                                       "incomplete": 1, "rejected": 0, "shards": 1,
                                       "samples": 0}
    assert [line["result"] for line in lines] == ["unreadable", "illegal", "incomplete"]
    assert lines[1]["illegalAt"] == 1
    assert lines[0]["source"] == f"{path}:2"

    ids = [import_id(record) for record in good]
    (shard,) = shard_rows(engine)
    assert games_by_shard(engine) == {shard["shard_id"]: ids}
    assert shard["num_games"] == 4 and shard["trigger"] == "import"
    assert shard["window_end_sequence"] == 4
    assert (shard["first_game_id"], shard["last_game_id"]) == (ids[0], ids[-1])
    assert shard["source_model_ids"] == ["import"]
    (event,) = outbox_events(engine)
    written = event.payload
    assert (written.shard_id, written.shard.uri, written.shard.sha256) == (
        shard["shard_id"], shard["uri"], shard["sha256"])
    assert (written.num_samples, written.num_games, written.window_end_sequence) == (
        shard["num_samples"], 4, 4)
    assert written.encoder_version == shard["encoder_version"] == 2
    assert event.config_key == "square8_2p" and event.producer == "exporter"

    data = read_shard(store.local_path(written.shard.uri, written.shard.sha256))
    assert len(data) == written.num_samples == totals["samples"] > 0
    assert list(data.metadata.game_ids) == ids
    for row in range(len(data)):  # the move played, one-hot over the legal moves
        _, probs = data.policy(row)
        assert len(probs) >= 2 and sorted(probs)[-2:] == [0.0, 1.0] and probs.sum() == 1.0
    assert np.isin(data.values, (-1.0, 1.0)).all()

    again = importer(engine, store)
    again.import_file(path)
    again.finish()
    assert (again.totals.stored, again.totals.duplicates, again.totals.shards) == (0, 4, [])
    assert len(outbox_events(engine)) == 1


def test_a_shard_is_cut_each_time_shard_samples_are_reached(engine, store, tmp_path) -> None:
    good = list(records(5))
    run = importer(engine, store, shard_samples=150)
    run.import_file(write_jsonl(tmp_path / "games.jsonl", good))
    run.finish()
    rows = shard_rows(engine)
    assert len(rows) >= 2
    by_shard = games_by_shard(engine)
    assert None not in by_shard
    assert [g for row in rows for g in by_shard[row["shard_id"]]] == [import_id(r) for r in good]
    assert [row["window_end_sequence"] for row in rows] == list(
        np.cumsum([row["num_games"] for row in rows]))
    assert all(row["num_samples"] >= 150 for row in rows[:-1])
    with session_scope(engine, read_only=True) as session:
        assert pending(session) == {}
        totals = session.get(QueueTotals, ("square8_2p", Origin.IMPORT))
        assert (totals.games_sharded, totals.shards_written) == (5, len(rows))


def test_an_import_killed_before_its_shards_is_finished_by_the_next(engine, store,
                                                                     tmp_path) -> None:
    path = write_jsonl(tmp_path / "games.jsonl", list(records(3)))
    killed = importer(engine, store)
    killed.import_file(path)  # stored, then the process dies before finish()
    assert shard_rows(engine) == []
    again = importer(engine, store)
    again.import_file(path)
    again.finish()
    assert (again.totals.stored, again.totals.duplicates) == (0, 3)
    (row,) = shard_rows(engine)
    assert games_by_shard(engine) == {row["shard_id"]: [import_id(r) for r in records(3)]}


def test_a_game_that_does_not_replay_is_rejected_the_others_are_sharded(
        engine, store, tmp_path) -> None:
    good = list(records(3))
    run = importer(engine, store)
    run.import_file(write_jsonl(tmp_path / "games.jsonl", good))
    broken = import_id(good[1])
    with session_scope(engine) as session:  # damaged behind the exporter's back
        session.execute(StoredGame.__table__.update().where(StoredGame.game_id == broken)
                        .values(content=b"not zlib"))
    run._replayed.clear()  # replay from the store, as a restarted exporter does
    run.finish()
    assert run.totals.rejected == 1
    (shard,) = shard_rows(engine)
    assert shard["num_games"] == 2 and shard["window_end_sequence"] == 3
    with session_scope(engine, read_only=True) as session:
        row = session.scalars(select(StoredGame).where(StoredGame.game_id == broken)).one()
        assert (row.status, row.shard_id) == (GameStatus.REJECTED, None)
        assert "unreadable" in row.reason


def test_a_window_sharded_by_another_writer_rolls_back(engine, store, tmp_path) -> None:
    run = importer(engine, store)
    run.import_file(write_jsonl(tmp_path / "games.jsonl", list(records(2))))
    key = shards.QueueKey("square8_2p", Origin.IMPORT)
    builds = []
    for _ in range(2):
        with session_scope(engine, read_only=True) as session:
            build = shards.Build(key, "max_delay", shards.take_window(session, key, 10 ** 6))
        build.advance()
        builds.append((build, shards.write_artifact(build, store)))
    with session_scope(engine) as session:
        first = shards.commit(session, *builds[0])
    with pytest.raises(shards.WindowTaken), session_scope(engine) as session:
        shards.commit(session, *builds[1])
    assert games_by_shard(engine) == {first.shard_id: [import_id(r) for r in records(2)]}
    assert len(shard_rows(engine)) == 1
