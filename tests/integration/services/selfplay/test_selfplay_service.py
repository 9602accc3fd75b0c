"""The selfplay service run as users run it (``ringrift service run selfplay``), over the real
broker and real HTTP, on a tiny budget (2 simulations, short move caps, a tiny network).

Checks: a bounded run publishes exactly ``--max-games`` decodable games, with the seats'
model ids, and exits 0; ``/readyz`` stays 503 until the table
readers caught up (a table topic missing: no game is played) and turns 200 after;
``/healthz`` answers 200 meanwhile; ``/metrics`` shows games, positions, their rates, the
model's age and the lockstep batch; a model promoted mid-run (a tiny
checkpoint in the artifact store) plays the games that start after it; curriculum weight 0
for a config gives it no games; a cluster status that defers self-play pauses it (no games,
the pause in /metrics) until it clears; garbage and a corrupt model on the tables are skipped
(logged, counted, readiness names the model) and play goes on; SIGKILL mid-run and a restart
lose no published game, publish no half game and never reuse a game id (ids contiguous from
the durable sequence; the only repeat possible is the relay sending the same event again, same
event id and bytes, when the kill fell between the broker's ack and the outbox mark); two
replicas publish twice the games with no duplicate id; ``--help`` lists the settings.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION
from ringrift.evaluation import UNIFORM_ID
from ringrift.events import envelope
from ringrift.events.envelope import Event, new_event
from ringrift.events.gen.common.v1.common_pb2 import ArtifactRef
from ringrift.events.gen.model.v1.model_pb2 import CurrentModel
from ringrift.events.gen.ops.v1.ops_pb2 import ClusterStatus, ConfigWeight, CurriculumWeights
from ringrift.events.producer import EventProducer, RawRecord
from ringrift.events.topics import (
    CLUSTER_STATUS,
    CURRICULUM_WEIGHTS,
    GAME_COMPLETED,
    MODEL_CURRENT,
    TOPICS,
    TopicSpec,
)
from ringrift.models import build_model, save_checkpoint
from ringrift.selfplay.record_codec import decode_game
from ringrift.storage.artifacts import DirectoryArtifactStore
from tests.fixtures.services import ServiceEnv
from tests.integration.events.support import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
TINY = ("--simulations", "2", "--max-considered-actions", "2", "--max-moves", "30",
        "--torch-threads", "1")


def start(env: ServiceEnv, *flags: str, instance: str = "rep", **extra: str):
    return env.start("selfplay", *TINY, "--instance-id", instance, *flags,
                     env=env.env("selfplay", **extra))


def metrics(service) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(service.get("/metrics").text)
            for s in family.samples}


def distinct(events: list[Event]) -> list[Event]:
    """The events with one copy per game id, after checking that any second copy is the same
    event again (the outbox relay publishes at least once: a kill between the broker's ack and
    the outbox's "sent" mark sends it again, same event id, same bytes) and never another game
    under a reused id."""
    first: dict[str, Event] = {}
    for event in events:
        seen = first.setdefault(event.payload.game_id, event)
        assert seen.event_id == event.event_id, f"game id {event.payload.game_id} reused"
        assert seen.payload == event.payload
    return list(first.values())


def check_games(events: list[Event]) -> list[tuple[str, ...]]:
    """Every event is a whole, decodable game and no game id appears twice; returns the seats."""
    ids = [e.payload.game_id for e in events]
    assert len(ids) == len(set(ids)), Counter(ids).most_common(3)
    seats = []
    for event in events:
        game = decode_game(event.payload.record, event.payload.record_encoding)
        assert game.game_id == event.payload.game_id
        assert len(game.moves) == event.payload.num_moves
        assert event.config_key == event.payload.config_key
        seats.append(tuple(event.payload.seat_model_ids))
    return seats


class Tail:
    """Every event of a topic in the test's namespace, read as it arrives."""

    def __init__(self, env: ServiceEnv, spec: TopicSpec) -> None:
        self.topic = env.topic(spec)
        self.consumer = Consumer(env.kafka.client_config() | {
            "group.id": f"tail-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False})
        self.consumer.assign([TopicPartition(self.topic.name, p, OFFSET_BEGINNING)
                              for p in range(self.topic.partitions)])
        self.events: list[Event] = []

    def until(self, done: Callable[[list[Event]], bool], timeout: float = 600) -> list[Event]:
        """The events so far, once ``done(events)`` (after draining what is there)."""
        deadline, done_at = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            record = self.consumer.poll(0.5)
            if record is not None and record.error() is None:
                self.events.append(envelope.decode(record.value(), self.topic))
            if done_at is None and done(self.events):
                done_at = time.monotonic()
            if done_at is not None and (record is None or time.monotonic() - done_at > 5):
                return list(self.events)
        raise AssertionError(f"timed out with {len(self.events)} event(s) on {self.topic.name}")

    def __enter__(self) -> Tail:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.consumer.close()


def game_number(event: Event) -> int:
    return int(event.payload.game_id.rsplit("-", 1)[1])


def current_model(env: ServiceEnv, revision: int, *, corrupt: bool = False) -> tuple[Event, str]:
    path = env.directory / f"model-{revision}.pt"
    metadata = save_checkpoint(path, build_model(GameConfig("square8", 2), "tiny"),
                               encoder_version=ENCODER_VERSION, training_step=revision)
    ref = DirectoryArtifactStore(env.directory / "artifacts").put_bytes(path.read_bytes())
    weights = ArtifactRef(uri=ref.uri, sha256="0" * 64 if corrupt else ref.sha256,
                          size_bytes=ref.size)
    payload = CurrentModel(config_key="square8_2p", model_id=metadata.model_id,
                           weights=weights, revision=revision,
                           encoder_version=ENCODER_VERSION)
    return new_event(payload, config_key="square8_2p", producer="promoter"), metadata.model_id


def cluster_status(defer: list[str]) -> Event:
    status = ClusterStatus(defer=defer, refresh_seconds=3600,
                           reasons=[f"{work}: disk nearly full (test)" for work in defer])
    status.updated_at.GetCurrentTime()
    return new_event(status, config_key="", producer="cluster-monitor")


def test_bounded_run_publishes_exactly_n_games_and_exits(service_env: ServiceEnv) -> None:
    service_env.migrate("selfplay")
    service = start(service_env, "--max-games", "4", "--concurrency", "2")
    service.wait_for("/readyz", 200)
    assert service.wait(timeout=600) == 0, service.log()
    events = service_env.read(GAME_COMPLETED, 4)
    assert len(events) == 4
    assert check_games(events) == [(UNIFORM_ID, UNIFORM_ID)] * 4
    assert sorted(game_number(e) for e in events) == [0, 1, 2, 3]
    assert "published 4 game(s) (--max-games): stopping" in service.log()


def test_ready_only_after_the_tables_caught_up(bare_service_env: ServiceEnv) -> None:
    env = bare_service_env
    env.create([t for t in TOPICS if t is not CLUSTER_STATUS])
    env.migrate("selfplay")
    service = start(env, "--max-games", "2", "--concurrency", "2")
    waiting = service.wait_for("/readyz", 503).json()["checks"]
    assert "does not exist" in waiting["tables"], waiting
    assert service.get("/healthz").status_code == 200
    assert env.read(GAME_COMPLETED, 0, timeout=5, settle_s=3) == []  # nothing played yet
    env.create([CLUSTER_STATUS])
    ready = service.wait_for("/readyz", 200).json()["checks"]
    assert ready["tables"] == "ok" and ready["models"] == "ok"
    scraped = metrics(service)
    assert scraped[("ringrift_selfplay_lockstep_games", ())] >= 0
    assert service.wait(timeout=600) == 0, service.log()
    assert len(env.read(GAME_COMPLETED, 2)) == 2


def test_a_model_promoted_mid_run_plays_the_next_games(service_env: ServiceEnv) -> None:
    service_env.migrate("selfplay")
    service = start(service_env, "--concurrency", "2")
    with Tail(service_env, GAME_COMPLETED) as games:
        games.until(lambda events: len(events) >= 1)
        promotion, model_id = current_model(service_env, 1)
        service_env.publish(MODEL_CURRENT, [promotion])
        played = (model_id,) * 2
        games.until(lambda events: sum(tuple(e.payload.seat_model_ids) == played
                                       for e in events) >= 3)
        assert "new games play model" in service.log()
        scraped = metrics(service)
        square8 = (("config", "square8_2p"),)
        assert 0 <= scraped[("ringrift_selfplay_model_age_seconds", square8)] < 3600
        assert scraped[("ringrift_selfplay_games_total", square8)] >= 4
        assert scraped[("ringrift_selfplay_positions_total", square8)] >= 4
        assert scraped[("ringrift_selfplay_positions_per_second", square8)] > 0
        assert scraped[("ringrift_selfplay_lockstep_batch_positions_count", ())] > 0
        assert scraped[("ringrift_selfplay_paused_seconds", ())] == 0
        service.terminate()
        assert service.wait() == 0, service.log()
        events = games.until(lambda events: True)
    seats = check_games(events)
    assert set(seats) == {(UNIFORM_ID,) * 2, played}
    first = seats.index(played)
    # Only the one other game in flight at the promotion may still finish with the old model.
    assert seats[first:].count((UNIFORM_ID,) * 2) <= 1


def test_weight_zero_gets_no_games_and_defer_pauses(service_env: ServiceEnv) -> None:
    service_env.migrate("selfplay")
    service_env.publish(CURRICULUM_WEIGHTS, [new_event(
        CurriculumWeights(weights=[ConfigWeight(config_key="square8_2p", weight=0.0),
                                   ConfigWeight(config_key="hex8_2p", weight=1.0)]),
        config_key="", producer="curriculum")])
    service_env.publish(CLUSTER_STATUS, [cluster_status(["selfplay"])])
    service = start(service_env, "--max-games", "3", "--concurrency", "2",
                    "--configs", "square8_2p,hex8_2p")
    service.wait_for("/readyz", 200)
    wait_until(lambda: metrics(service)[("ringrift_selfplay_paused_seconds", ())] > 2, 120,
               "paused for 2 s")
    assert service_env.read(GAME_COMPLETED, 0, timeout=5, settle_s=3) == []
    service_env.publish(CLUSTER_STATUS, [cluster_status(["training"])])
    assert service.wait(timeout=600) == 0, service.log()
    events = service_env.read(GAME_COMPLETED, 3)
    check_games(events)
    assert {e.config_key for e in events} == {"hex8_2p"}
    assert "selfplay: disk nearly full (test)" in service.log()
    assert "resuming self-play" in service.log()


def test_bad_table_records_are_skipped_and_play_goes_on(service_env: ServiceEnv) -> None:
    service_env.migrate("selfplay")
    with EventProducer(service_env.kafka, client_id="garbage") as producer:
        for spec in (MODEL_CURRENT, CURRICULUM_WEIGHTS, CLUSTER_STATUS):
            topic = service_env.topic(spec)
            producer.send([RawRecord(topic.name, b"square8_2p", b"\x00not an envelope",
                                     partition=0)]).wait(30)
    broken, _ = current_model(service_env, 1, corrupt=True)
    service_env.publish(MODEL_CURRENT, [broken])
    service = start(service_env, "--max-games", "3", "--concurrency", "2")
    wait_until(lambda: "revision 1" in service.get("/readyz").json()["checks"]["models"], 300,
               "readiness naming the broken model")
    not_ready = service.get("/readyz")
    assert not_ready.status_code == 503 and "sha256" in not_ready.json()["checks"]["models"]
    scraped = metrics(service)
    for spec in (MODEL_CURRENT, CURRICULUM_WEIGHTS, CLUSTER_STATUS):
        key = ("ringrift_events_table_undecodable_total",
               (("topic", service_env.topic(spec).name),))
        assert scraped[key] == 1
    assert service.wait(timeout=600) == 0, service.log()
    assert check_games(service_env.read(GAME_COMPLETED, 3)) == [(UNIFORM_ID,) * 2] * 3


def test_sigkill_mid_run_then_restart_publishes_each_game_once(service_env: ServiceEnv) -> None:
    service_env.migrate("selfplay")
    service = start(service_env, "--concurrency", "3")
    with Tail(service_env, GAME_COMPLETED) as games:
        seen = games.until(lambda events: len(events) >= 2)
    service.kill()
    restarted = start(service_env, "--concurrency", "3", "--max-games", "3")
    assert restarted.wait(timeout=600) == 0, restarted.log()
    events = distinct(service_env.read(GAME_COMPLETED, len(seen) + 3))
    check_games(events)
    # No game is lost once published and no number is used twice: 0..n-1 exactly, and the
    # restarted replica's three games come after every game the killed one had published.
    numbers = sorted(game_number(e) for e in events)
    assert numbers == list(range(len(numbers))) and len(numbers) >= len(seen) + 3


def test_two_replicas_publish_twice_the_games_without_duplicates(
        service_env: ServiceEnv) -> None:
    service_env.migrate("selfplay")
    replicas = [start(service_env, "--max-games", "3", "--concurrency", "2", instance=name)
                for name in ("replica-a", "replica-b")]
    for replica in replicas:
        assert replica.wait(timeout=900) == 0, replica.log()
    events = service_env.read(GAME_COMPLETED, 6)
    check_games(events)
    by_replica = Counter(e.payload.game_id.rsplit("-", 1)[0] for e in events)
    assert by_replica == {"replica-a": 3, "replica-b": 3}


def test_help_lists_the_settings() -> None:
    done = subprocess.run([sys.executable, "-m", "ringrift.cli.main", "service", "run",
                           "selfplay", "--help"], capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    for flag in ("--configs", "--concurrency", "--simulations", "--max-games", "--device",
                 "RINGRIFT_SELFPLAY_MAX_GAMES", "--instance-id"):
        assert flag in done.stdout
