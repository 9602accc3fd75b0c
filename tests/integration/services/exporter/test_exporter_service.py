"""The exporter run as users run it (``ringrift service run exporter``): a child process,
the real broker, SQLite and PostgreSQL, the artifact store.

Checks: ``/readyz`` is 503 while the games topic is missing (the group cannot be assigned)
and 200 once it consumes, ``/healthz`` 200 meanwhile; games of two configs become shards, each game in exactly one,
announced by ``ShardWritten`` whose artifacts hold exactly those games' samples, with the
exporter's metrics on ``/metrics``; redelivered and republished games and two SIGKILLs (one
mid-batch, one while a shard is being built) leave every game in exactly one shard, on both
database backends; bad games (a malformed envelope, an undecodable record, an unknown config,
a record that does not replay) are dead-lettered with their reasons while the others are
sharded by the ``--max-delay`` flush; two replicas in one group on one PostgreSQL database,
one of them SIGKILLed mid-stream, still put every game in exactly one shard; ``--help`` lists
the exporter's settings.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from ringrift.events.deadletter import ERROR_CLASS, ERROR_MESSAGE, OFFSET
from ringrift.events.producer import EventProducer, partition_for_key
from ringrift.events.replay import list_dead_letters
from ringrift.events.topics import GAME_COMPLETED, SHARD_WRITTEN, TOPICS
from ringrift.storage import migrations
from ringrift.storage.artifacts import store_for_uri
from ringrift.storage.database import make_engine, session_scope
from ringrift.training.shards import read_shard
from services.exporter.tables import GameStatus, StoredGame
from tests.fixtures.services import ServiceEnv
from tests.integration.events.support import wait_until
from tests.utils.exporter_games import game_completed, game_event, games_by_shard, self_played

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def metrics(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with session_scope(engine, read_only=True) as session:
            return dict(session.execute(select(StoredGame.status, func.count())
                                        .group_by(StoredGame.status)).all())
    finally:
        engine.dispose()


def shard_games(events) -> dict[str, list[str]]:
    """Game ids in each announced shard's artifact (read and sha256-checked), by shard id."""
    out = {}
    for event in events:
        ref = event.payload.shard
        data = read_shard(store_for_uri(ref.uri).local_path(ref.uri, ref.sha256))
        assert len(data) == event.payload.num_samples
        out[event.payload.shard_id] = list(data.metadata.game_ids)
    return out


def test_ready_once_consuming_then_games_become_shards(bare_service_env: ServiceEnv) -> None:
    env = bare_service_env
    url = env.migrate("exporter")
    service = env.start("exporter", "--shard-samples", "150", "--max-delay-s", "3")
    waiting = service.wait_for("/readyz", 503).json()["checks"]
    assert waiting["consumer"] != "ok" and waiting["shards"] == "ok", waiting
    assert service.get("/healthz").status_code == 200
    env.create(TOPICS)
    service.wait_for("/readyz", 200)

    games = self_played(6) + self_played(3, "hex8_2p")
    env.publish(GAME_COMPLETED, [game_event(game_completed(g, ["m7"] * 2)) for g in games])
    wait_until(lambda: counts(url).get(GameStatus.SHARDED, 0) == len(games), 300,
               "every game in a shard")
    engine = make_engine(url)
    try:
        by_shard = games_by_shard(engine)
    finally:
        engine.dispose()
    events = env.read(SHARD_WRITTEN, len(by_shard))
    assert sorted(e.payload.shard_id for e in events) == sorted(by_shard)
    in_artifacts = shard_games(events)
    assert sorted(g for ids in in_artifacts.values() for g in ids) == sorted(
        g.game_id for g in games)
    for event in events:
        assert in_artifacts[event.payload.shard_id] == by_shard[event.payload.shard_id]
        assert event.payload.source_model_ids == ["m7"]
        assert event.config_key in ("square8_2p", "hex8_2p")

    scraped = metrics(service.get("/metrics").text)
    stored = sum(v for (name, _), v in scraped.items()
                 if name == "ringrift_exporter_games_stored_total")
    assert stored == len(games)
    assert sum(v for (name, _), v in scraped.items()
               if name == "ringrift_exporter_shards_written_total") == len(events)
    assert scraped[("ringrift_exporter_stage_latency_seconds_count",
                    (("config", "hex8_2p"),))] >= 1
    assert ("ringrift_exporter_pending_samples", (("config", "square8_2p"),
                                                  ("origin", "selfplay"))) in scraped
    service.terminate()
    assert service.wait() == 0, service.log()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_every_game_in_exactly_one_shard_across_redeliveries_and_kills(
        service_env: ServiceEnv, backend: str, request: pytest.FixtureRequest) -> None:
    url = service_env.migrate("exporter") if backend == "sqlite" else \
        request.getfixturevalue("postgres_database_factory")()
    migrations.upgrade_to_head(url, "exporter")
    environment = service_env.env("exporter", RINGRIFT_EXPORTER_DATABASE_URL=url)
    games = self_played(40, truncated_every=10)
    events = [game_event(game_completed(g)) for g in games]
    republished = [game_event(game_completed(g)) for g in games[5:10]]  # new event ids
    service_env.publish(GAME_COMPLETED, events + events[:8] + republished)
    flags = ("--kafka-batch-size", "4", "--shard-samples", "150", "--max-delay-s", "2",
             "--build-step-s", "0.05")

    first = service_env.start("exporter", *flags, env=environment)
    wait_until(lambda: sum(counts(url).values()) >= 8, 300, "some games stored")
    first.kill()  # mid-batch: some games stored, offsets behind
    second = service_env.start("exporter", *flags, env=environment)
    wait_until(lambda: "building a square8_2p shard" in second.log(), 300, "a shard build")
    second.kill()  # mid-shard: the build in memory is lost, its games still pending
    third = service_env.start("exporter", *flags, "--exit-when-idle", "8", env=environment)
    assert third.wait(timeout=600) == 0, third.log()

    assert counts(url) == {GameStatus.SHARDED: len(games)}
    engine = make_engine(url)
    try:
        by_shard = games_by_shard(engine)
    finally:
        engine.dispose()
    assert sorted(g for ids in by_shard.values() for g in ids) == sorted(g.game_id for g in games)
    announced = {e.event_id: e for e in service_env.read(SHARD_WRITTEN, len(by_shard))}
    assert sorted(e.payload.shard_id for e in announced.values()) == sorted(by_shard)
    in_artifacts = shard_games(announced.values())
    with_samples = [g.game_id for g in games if not g.truncated]
    assert sorted(g for ids in in_artifacts.values() for g in ids) == sorted(with_samples)
    assert sum(e.payload.num_games for e in announced.values()) == len(games)


def test_bad_games_are_dead_lettered_the_rest_flushed_after_max_delay(
        service_env: ServiceEnv) -> None:
    url = service_env.migrate("exporter")
    good = self_played(3)
    lie = game_completed(self_played(4)[3], ranking=[2, 2])
    bad = [game_completed(self_played(5)[4], record=b"not zlib"),
           game_completed(good[0], game_id="other", config_key="chess_2p")]
    topic = service_env.topic(GAME_COMPLETED)
    with EventProducer(service_env.kafka) as producer:
        producer.produce_raw(topic.name, "square8_2p", b"\x00 not an envelope",
                             partition=partition_for_key(topic, "square8_2p"))
    service_env.publish(GAME_COMPLETED, [game_event(game_completed(good[0])),
                                         game_event(bad[0]),
                                         game_event(bad[1], config_key="square8_2p"),
                                         game_event(lie), game_event(game_completed(good[1])),
                                         game_event(game_completed(good[2]))])
    service = service_env.start("exporter", "--shard-samples", "1000000", "--max-delay-s", "2",
                                "--exit-when-idle", "8")
    assert service.wait(timeout=600) == 0, service.log()

    assert counts(url) == {GameStatus.SHARDED: 3, GameStatus.REJECTED: 1}
    (event,) = service_env.read(SHARD_WRITTEN, 1)
    assert sorted(shard_games([event])[event.payload.shard_id]) == sorted(
        g.game_id for g in good)
    letters = list_dead_letters(service_env.kafka, topic.name)
    reasons = sorted(letter.context[ERROR_MESSAGE] for letter in letters)
    assert len(reasons) == 4, reasons
    expected = ["not a ringrift.events.v1.Envelope", "not valid zlib data", "not one of",
                "the event [2, 2]"]
    for pattern in expected:
        assert any(re.search(re.escape(pattern), reason) for reason in reasons), (pattern,
                                                                                 reasons)
    late = [letter for letter in letters if letter.context[ERROR_CLASS].endswith("UnusableGame")]
    assert len(late) == 1 and late[0].context[OFFSET] == "-1" and late[0].value


@pytest.mark.postgres
def test_two_replicas_one_killed_put_every_game_in_exactly_one_shard(
        service_env: ServiceEnv, postgres_database_factory) -> None:
    url = postgres_database_factory()
    migrations.upgrade_to_head(url, "exporter")
    environment = service_env.env("exporter", RINGRIFT_EXPORTER_DATABASE_URL=url)
    flags = ("--kafka-batch-size", "4", "--shard-samples", "150", "--max-delay-s", "2",
             "--build-step-s", "0.05")
    first, second = (service_env.start("exporter", *flags, "--instance-id", name,
                                       env=environment) for name in ("replica-a", "replica-b"))
    for replica in (first, second):
        replica.wait_for("/readyz", 200, timeout=300)
    # Two configs on two partitions (0 and 6), so the group can give each replica one.
    games = self_played(30) + self_played(20, "hex8_2p")
    events = [game_event(game_completed(g)) for g in games]
    service_env.publish(GAME_COMPLETED, events + events[::4])  # and redeliveries
    wait_until(lambda: sum(counts(url).values()) >= 8, 300, "some games stored")
    first.kill()  # the survivor takes its partitions over once its session expires
    wait_until(lambda: counts(url) == {GameStatus.SHARDED: len(games)}, 600,
               "every game in a shard")

    engine = make_engine(url)
    try:
        by_shard = games_by_shard(engine)
    finally:
        engine.dispose()
    assert sorted(g for ids in by_shard.values() for g in ids) == sorted(g.game_id for g in games)
    # The relay is at least once: a kill between the broker's ack and the outbox's mark
    # sends a ShardWritten again, with the same event id.
    announced = {e.event_id: e for e in service_env.read(SHARD_WRITTEN, len(by_shard))}
    assert sorted(e.payload.shard_id for e in announced.values()) == sorted(by_shard)
    in_artifacts = shard_games(announced.values())
    assert sorted(g for ids in in_artifacts.values() for g in ids) == sorted(
        g.game_id for g in games)
    second.terminate()
    assert second.wait() == 0, second.log()


def test_help_lists_the_settings() -> None:
    done = subprocess.run([sys.executable, "-m", "ringrift.cli.main", "service", "run",
                           "exporter", "--help"], capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    for flag in ("--shard-samples", "--max-delay-s", "--build-step-s",
                 "RINGRIFT_EXPORTER_SHARD_SAMPLES", "--kafka-batch-size"):
        assert flag in done.stdout, flag
