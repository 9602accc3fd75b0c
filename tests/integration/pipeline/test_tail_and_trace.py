"""The tail reader, the history reader and ``ringrift events trace`` on the real broker.

Checks: the tail delivers the small topics from their beginning and the games topic only
from its end (counting the games before by offset), hands over dead letters but not
replay markers, and skips a record that is no envelope; the history reader returns every
event up to the end it saw, from a time when asked; ``ringrift events trace`` run as a
command follows a game through a recorded chain and prints the lags, and says so (exit 1)
for an id nothing names.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime

from ringrift.events.producer import EventProducer
from ringrift.events.replay import REPLAY_OF
from ringrift.events.topics import (
    CANDIDATE_READY,
    EVALUATION_COMPLETED,
    EVALUATION_STARTED,
    GAME_COMPLETED,
    MODEL_CURRENT,
    MODEL_LIFECYCLE,
    SHARD_WRITTEN,
    TOPICS,
)
from ringrift.pipeline.history import read_history
from ringrift.pipeline.state import PipelineState
from ringrift.pipeline.tail import TopicTail
from tests.fixtures.services import ServiceEnv
from tests.unit.pipeline.chain import CONFIG, MODEL, chain, game

STAGE_TOPICS = {"games": GAME_COMPLETED, "shards": SHARD_WRITTEN, "candidates": CANDIDATE_READY,
                "started": EVALUATION_STARTED, "completed": EVALUATION_COMPLETED,
                "lifecycle": MODEL_LIFECYCLE, "current": MODEL_CURRENT}


def publish_chain(env: ServiceEnv) -> None:
    for stage, events in chain().items():
        env.publish(STAGE_TOPICS[stage], events)


def wait_until(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def test_the_tail_follows_the_topics_and_dead_letters(service_env: ServiceEnv) -> None:
    publish_chain(service_env)
    topics = [service_env.topic(spec) for spec in TOPICS]
    state = PipelineState()
    games = service_env.topic(GAME_COMPLETED)
    with EventProducer(service_env.kafka, client_id="test") as producer:
        producer.produce_raw(service_env.topic(SHARD_WRITTEN).name, CONFIG, b"not an envelope")
        dlq = service_env.topic(SHARD_WRITTEN).dlq_name
        producer.produce_raw(dlq, CONFIG, b"x", headers=[
            ("dlq.original.topic", b"shards"), ("dlq.error.message", b"bad")])
        producer.produce_raw(dlq, CONFIG, None, headers=[(REPLAY_OF, f"{dlq}:0:0".encode())])
        producer.flush(30)
    tail = TopicTail(service_env.kafka, topics, lambda _spec, event: state.apply(event),
                     from_end=[games.name], dead_letter_topics=[dlq],
                     on_dead_letter=state.apply_dead_letter).start()
    try:
        wait_until(lambda: state.config(CONFIG).current_model == MODEL)
        wait_until(lambda: state.dead_letters)
        service_env.publish(GAME_COMPLETED, [game("g8", 30, MODEL)])
        wait_until(lambda: state.config(CONFIG).games_seen == 1)
        config = state.config(CONFIG)
        assert (config.shards, config.candidates, config.promotions) == (2, 1, 1)
        partition = next(partition for (name, partition), offset in tail.start_offsets.items()
                         if name == games.name and offset)
        assert tail.start_offsets[(games.name, partition)] == len(chain()["games"])
        assert state.dead_letters == {"shards": 1}  # the replay marker is not a letter
        assert tail.undecodable == 1
    finally:
        tail.close()


def test_history_and_the_trace_command(service_env: ServiceEnv) -> None:
    publish_chain(service_env)
    games = service_env.topic(GAME_COMPLETED)
    history = read_history(service_env.kafka, [games, service_env.topic(SHARD_WRITTEN)])
    assert [r.event.payload.game_id for r in history.of(games)] == [
        f"g{i}" for i in range(1, 8)]
    # ``since`` is a record time (the broker's clock), not an envelope's produced-at.
    since = datetime.now(UTC)
    time.sleep(0.01)
    service_env.publish(GAME_COMPLETED, [game("g8", 30, MODEL)])
    late = read_history(service_env.kafka, [games], since=since)
    assert [r.event.payload.game_id for r in late.of(games)] == ["g8"]

    def trace(target: str, *flags: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ringrift.cli.main", "events", "trace", target, *flags,
             "--namespace", service_env.namespace,
             "--bootstrap-servers", service_env.kafka.bootstrap_servers],
            capture_output=True, text=True, timeout=120, check=False)

    found = trace("g4", "--json")
    assert found.returncode == 0, found.stderr
    assert [step["stage"] for step in json.loads(found.stdout)] == [
        "game", "shard", "candidate", "evaluation started", "evaluation", "promoted",
        "current model", "first game with it"]
    printed = trace("g4").stdout
    assert "+1.500 s  shard                s-2" in printed and "g7" in printed
    missing = trace("no-such-id")
    assert missing.returncode == 1 and "no event on the pipeline's topics" in missing.stdout
