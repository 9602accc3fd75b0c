"""The curriculum run as users run it (``ringrift service run curriculum``), on the real broker.

Checks: it publishes equal weights for the enabled configs at once; evaluations and
promotions that favour one config move weight to it on the compacted topic, while bad
events are dead-lettered with their reasons; a SIGKILL mid-stream and a restart record
every evaluation once and publish every recorded revision (none lost, none doubled).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ringrift.events.deadletter import ERROR_MESSAGE
from ringrift.events.envelope import new_event
from ringrift.events.gen.common.v1.common_pb2 import Estimate
from ringrift.events.gen.model.v1.model_pb2 import (
    EvaluationCompleted,
    ModelLifecycleChanged,
    PlayerRating,
)
from ringrift.events.producer import EventProducer, partition_for_key
from ringrift.events.replay import list_dead_letters
from ringrift.events.topics import CURRICULUM_WEIGHTS, EVALUATION_COMPLETED, MODEL_LIFECYCLE
from ringrift.storage.database import make_engine, session_scope
from services.curriculum.tables import EvaluationSeen, WeightPublication
from tests.fixtures.services import ServiceEnv
from tests.integration.events.support import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
SQUARE, HEX = "square8_2p", "hex8_2p"
FLAGS = ("--configs", f"{SQUARE},{HEX}", "--recompute-every-s", "1")


def evaluation(config: str, evaluation_id: str, hours_ago: float, **ratings: float):
    payload = EvaluationCompleted(
        evaluation_id=evaluation_id, model_id=max(ratings, key=ratings.get),
        config_key=config, ratings=[PlayerRating(player_id=p, elo=Estimate(value=e), stderr=25)
                                    for p, e in ratings.items()])
    event = new_event(payload, config_key=config, producer="evaluator")
    return replace(event, produced_at=datetime.now(UTC) - timedelta(hours=hours_ago))


def promoted(config: str, model: str, hours_ago: float):
    payload = ModelLifecycleChanged(transition=ModelLifecycleChanged.Transition.PROMOTED,
                                    model_id=model, config_key=config, actor="promoter")
    event = new_event(payload, config_key=config, producer="promoter")
    return replace(event, produced_at=datetime.now(UTC) - timedelta(hours=hours_ago))


def latest_weights(env: ServiceEnv, count: int = 1) -> dict[str, float]:
    events = env.read(CURRICULUM_WEIGHTS, count, timeout=30, settle_s=0.5)
    if not events:
        return {}
    newest = max(events, key=lambda event: event.payload.revision)
    return {w.config_key: w.weight for w in newest.payload.weights}


def test_evaluations_that_favour_a_config_move_the_published_weights(
        service_env: ServiceEnv) -> None:
    env = service_env
    env.migrate("curriculum")
    service = env.start("curriculum", *FLAGS)
    wait_until(lambda: latest_weights(env) == pytest.approx({SQUARE: 0.5, HEX: 0.5}), 180,
               "equal weights at start")
    topic = env.topic(EVALUATION_COMPLETED)
    with EventProducer(env.kafka) as producer:
        producer.produce_raw(topic.name, SQUARE, b"\x01 not an envelope",
                             partition=partition_for_key(topic, SQUARE))
    env.publish(EVALUATION_COMPLETED, [
        evaluation("chess_2p", "ev-bad", 1, m=1),
        evaluation(SQUARE, "ev-s1", 6, uniform=0, m1=150),
        evaluation(HEX, "ev-h1", 6, uniform=0, h1=20),
        evaluation(SQUARE, "ev-s2", 3, uniform=0, m1=160, m2=400),
    ])
    env.publish(MODEL_LIFECYCLE, [promoted(SQUARE, "m1", 6), promoted(HEX, "h1", 6),
                                  promoted(SQUARE, "m2", 3)])

    def favoured() -> bool:
        weights = latest_weights(env)
        return weights.get(SQUARE, 0) > weights.get(HEX, 1) > 0
    wait_until(favoured, 180, "more weight to square8_2p")
    wait_until(lambda: len(list_dead_letters(env.kafka, topic.name)) == 2, 120, "dead letters")
    reasons = sorted(letter.context[ERROR_MESSAGE]
                     for letter in list_dead_letters(env.kafka, topic.name))
    assert any("not a ringrift.events.v1.Envelope" in reason for reason in reasons), reasons
    assert any("names config 'chess_2p'" in reason for reason in reasons), reasons
    service.wait_for("/readyz", 200)
    service.terminate()
    assert service.wait() == 0


def test_a_killed_curriculum_resumes_with_nothing_lost_or_doubled(service_env: ServiceEnv
                                                                  ) -> None:
    env = service_env
    url = env.migrate("curriculum")
    count = 40
    env.publish(EVALUATION_COMPLETED, [
        evaluation(SQUARE if i % 2 else HEX, f"ev-{i}", (count - i) / 10, uniform=0,
                   **{f"m{i}": 10.0 * i}) for i in range(count)])
    engine = make_engine(url)

    def recorded() -> int:
        with session_scope(engine, read_only=True) as session:
            return int(session.scalar(select(func.count()).select_from(EvaluationSeen)))

    try:
        first = env.start("curriculum", *FLAGS, "--kafka-batch-size", "1", "--min-change", "0")
        wait_until(lambda: recorded() >= 5, 300, "some evaluations recorded")
        first.process.kill()
        second = env.start("curriculum", *FLAGS, "--kafka-batch-size", "1", "--min-change", "0")
        wait_until(lambda: recorded() == count, 300, "every evaluation recorded")
        second.wait_for("/readyz", 200)
        second.terminate()  # it recomputes every second: stop it to compare table and topic
        assert second.wait() == 0
        with session_scope(engine, read_only=True) as session:
            revisions = list(session.scalars(select(WeightPublication.revision)
                                             .order_by(WeightPublication.revision)))
    finally:
        engine.dispose()
    assert revisions == list(range(1, len(revisions) + 1))
    events = env.read(CURRICULUM_WEIGHTS, len(revisions), timeout=120)
    assert {event.payload.revision for event in events} == set(revisions)
    newest = max(events, key=lambda event: event.payload.revision).payload
    assert {w.config_key: w.evaluations for w in newest.weights} == {SQUARE: count // 2,
                                                                     HEX: count // 2}
    by_revision = {event.payload.revision: event.event_id for event in events}
    assert len({event.event_id for event in events}) == len(by_revision)  # repeats share ids
