"""The curriculum's handler and timer on a migrated database (SQLite and PostgreSQL).

Checks: before any input the enabled configs get equal weights, published once; an
evaluation history that favours one config (its current model's rating rises faster)
moves weight to it, with the inputs behind each weight; the same evaluation twice, a
rejection and an unchanged recompute publish nothing; the same evaluations and
promotions in any order give the same weights; bad events are poison; every
publication is recorded by revision.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ringrift.events.envelope import new_event
from ringrift.events.gen.common.v1.common_pb2 import Estimate
from ringrift.events.gen.model.v1.model_pb2 import (
    EvaluationCompleted,
    ModelLifecycleChanged,
    PlayerRating,
)
from ringrift.events.topics import CURRICULUM_WEIGHTS
from ringrift.storage import migrations
from ringrift.storage.database import make_engine, session_scope
from services.curriculum import tables
from services.curriculum.handlers import BadInput, Curriculum, CurriculumPolicy
from services.curriculum.policy import PolicySettings, config_weights
from tests.utils.schema import schema_differences

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SQUARE, HEX = "square8_2p", "hex8_2p"
Transition = ModelLifecycleChanged.Transition


@pytest.fixture
def engine(database_url: str):
    migrations.upgrade_to_head(database_url, "curriculum")
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def curriculum() -> Curriculum:
    return Curriculum(CurriculumPolicy([SQUARE, HEX], PolicySettings(), 24.0, 0.01),
                      clock=lambda: NOW)


def at(hours_ago: float, event):
    return replace(event, produced_at=NOW - timedelta(hours=hours_ago))


def evaluation(config: str, evaluation_id: str, candidate: str, hours_ago: float,
               **ratings: float):
    payload = EvaluationCompleted(
        evaluation_id=evaluation_id, model_id=candidate, config_key=config,
        elo=Estimate(value=ratings.get(candidate, 0.0)),
        ratings=[PlayerRating(player_id=player, elo=Estimate(value=elo), stderr=20.0)
                 for player, elo in ratings.items()])
    return at(hours_ago, new_event(payload, config_key=config, producer="evaluator"))


def promoted(config: str, model: str, hours_ago: float, transition=Transition.PROMOTED):
    payload = ModelLifecycleChanged(transition=transition, model_id=model, config_key=config)
    return at(hours_ago, new_event(payload, config_key=config, producer="promoter"))


def handle(engine, curriculum: Curriculum, event) -> list:
    with session_scope(engine) as session:
        return curriculum.handle(event, session)


def recompute(engine, curriculum: Curriculum) -> list:
    with session_scope(engine) as session:
        return curriculum.recompute(session)


def by_config(outputs: list) -> dict:
    [(topic, event)] = outputs
    assert topic is CURRICULUM_WEIGHTS and event.config_key == "all"
    return {w.config_key: w for w in event.payload.weights}


def test_the_migrated_database_matches_the_models(database_url: str) -> None:
    migrations.upgrade_to_head(database_url, "curriculum")
    assert schema_differences(database_url, tables.Base) == []


def test_equal_weights_first_then_only_when_something_changed(engine, curriculum) -> None:
    first = by_config(recompute(engine, curriculum))
    assert {k: w.weight for k, w in first.items()} == pytest.approx({SQUARE: 0.5, HEX: 0.5})
    assert recompute(engine, curriculum) == []
    assert handle(engine, curriculum, promoted(SQUARE, "m0", 1, Transition.REJECTED)) == []


def test_evaluations_that_favour_one_config_move_weight_to_it(engine, curriculum) -> None:
    recompute(engine, curriculum)
    # square8: promoted twice, its current model's rating rises 0 -> 400 in 3 h.
    handle(engine, curriculum, evaluation(SQUARE, "ev-s1", "m1", 6, uniform=0, m1=150))
    handle(engine, curriculum, promoted(SQUARE, "m1", 6))
    handle(engine, curriculum, evaluation(SQUARE, "ev-s2", "m2", 3, uniform=0, m1=160, m2=400))
    # hex8: one promotion at the same times, then a weaker candidate: rating 0 -> 100.
    handle(engine, curriculum, evaluation(HEX, "ev-h1", "h1", 6, uniform=0, h1=100))
    handle(engine, curriculum, promoted(HEX, "h1", 6))
    handle(engine, curriculum, evaluation(HEX, "ev-h2", "h2", 3, uniform=0, h1=100, h2=90))
    weights = by_config(handle(engine, curriculum, promoted(SQUARE, "m2", 3)))
    square, hexagon = weights[SQUARE], weights[HEX]
    assert square.weight > hexagon.weight and square.weight + hexagon.weight == pytest.approx(1)
    assert hexagon.weight >= 0.25 / 2
    assert (square.model_id, square.elo, square.evaluations) == ("m2", 400, 2)
    assert square.elo_velocity == pytest.approx(400 / 3)
    assert hexagon.elo_velocity == pytest.approx(100 / 3)
    assert square.hours_since_promotion == pytest.approx(3)
    assert hexagon.hours_since_promotion == pytest.approx(6)
    assert square.elo_stderr == 20 and square.score > hexagon.score
    # The same evaluation again changes nothing.
    assert handle(engine, curriculum, evaluation(SQUARE, "ev-s2", "m2", 1, m2=999)) == []
    with session_scope(engine, read_only=True) as session:
        revisions = list(session.scalars(select(tables.WeightPublication.revision)
                                         .order_by(tables.WeightPublication.revision)))
        evaluations = list(session.scalars(select(tables.EvaluationSeen.evaluation_id)))
    assert revisions == list(range(1, len(revisions) + 1)) and len(revisions) >= 2
    assert sorted(evaluations) == ["ev-h1", "ev-h2", "ev-s1", "ev-s2"]


def test_the_weights_do_not_depend_on_the_order_the_two_topics_deliver(tmp_path) -> None:
    # One SQLite database per order (the inputs' SQL is checked on both backends above).
    log = [evaluation(SQUARE, "ev-s1", "m1", 6, uniform=0, m1=150), promoted(SQUARE, "m1", 5.9),
           evaluation(SQUARE, "ev-s2", "m2", 3, uniform=0, m1=160, m2=400),
           promoted(SQUARE, "m2", 2.9), evaluation(HEX, "ev-h1", "h1", 5, uniform=0, h1=50)]
    orders = [log, log[::-1], [log[1], log[3], log[0], log[4], log[2]]]
    results = []
    for index, order in enumerate(orders):
        url = f"sqlite:///{tmp_path / f'order{index}.db'}"
        migrations.upgrade_to_head(url, "curriculum")
        engine = make_engine(url)
        curriculum = Curriculum(CurriculumPolicy([SQUARE, HEX]), clock=lambda: NOW)
        for event in order:
            handle(engine, curriculum, event)
        with session_scope(engine) as session:
            results.append({w.config_key: (round(w.weight, 9), w.elo, w.elo_velocity, w.model_id)
                            for w in policy_weights(curriculum, session)})
        engine.dispose()
    assert results[0] == results[1] == results[2]
    # Samples: uniform 0 at 6 h (m1 not yet current) ... m2 400 at its promotion, 2.9 h.
    assert results[0][SQUARE][1:] == (400, pytest.approx(400 / 3.1), "m2")


def policy_weights(curriculum: Curriculum, session) -> list:
    inputs = [curriculum._inputs(session, key, NOW) for key in curriculum.rules.configs]
    return config_weights(inputs, curriculum.rules.settings)


def test_a_config_that_is_not_enabled_is_recorded_but_gets_no_weight(engine, curriculum) -> None:
    outputs = handle(engine, curriculum, evaluation("hex8_4p", "ev-x", "x1", 1, x1=10))
    assert set(by_config(outputs)) == {SQUARE, HEX}


@pytest.mark.parametrize(("event", "message"), [
    (evaluation("chess_2p", "ev-1", "m", 1), "not one of"),
    (replace(evaluation(SQUARE, "ev-1", "m", 1), config_key=HEX), "differs from the payload"),
    (evaluation(SQUARE, "", "m", 1), "no evaluation_id"),
    (promoted(SQUARE, "", 1), "PROMOTED without a model_id"),
])
def test_events_the_curriculum_cannot_use_are_poison(engine, curriculum, event, message) -> None:
    with pytest.raises(BadInput, match=message):
        handle(engine, curriculum, event)
