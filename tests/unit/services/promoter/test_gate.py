"""Evaluation starts and the match log's ratings, on a migrated SQLite database.

Checks: a start moves a candidate to evaluating (the evaluator is the actor) and a later
result decides it; a start before its candidate takes effect at registration; a start that
arrives after its result changes nothing; a second start of an evaluating model changes
nothing; a start naming another config's model is poison (and one that arrived before
its model is ignored at registration, as is such a result); every completed evaluation
gives the registered models the match log's ratings, and an older result that arrives
late does not overwrite newer ones; an evaluator that does not name the gate's opponent
in the gate decision is read from its first per-opponent result.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from ringrift.errors import PoisonMessage
from ringrift.events.envelope import Event
from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.storage.database import session_scope
from services.promoter.handlers import Promoter
from services.promoter.tables import ConfigState, Evaluation, Model
from tests.utils.promoter import candidate, current, evaluation, history, model_id, started, states


def handle(engine: Engine, *events: Event) -> list:
    outputs: list = []
    for event in events:
        with session_scope(engine) as session:
            outputs += Promoter()(event, session)
    return outputs


def test_a_start_makes_a_candidate_evaluating(engine: Engine,
                                              store: DirectoryArtifactStore) -> None:
    assert handle(engine, candidate(store, "a"), started("e1", "a")) == []
    assert states(engine) == {model_id("a"): "evaluating"}
    assert history(engine, "a")[-1] == ("candidate", "evaluating", "evaluation", "evaluator")
    with session_scope(engine, read_only=True) as session:
        row = session.get(ConfigState, "square8_2p")
        assert row.latest_evaluation_id == "e1" and row.last_evaluation_started_at is not None
    handle(engine, started("e1", "a"), evaluation("e1", "a", passed=True))
    assert states(engine) == {model_id("a"): "promoted"}
    assert [step[1] for step in history(engine, "a")] == ["candidate", "evaluating", "promoted"]


def test_a_start_before_its_candidate_applies_at_registration(
        engine: Engine, store: DirectoryArtifactStore) -> None:
    handle(engine, started("e1", "a"), candidate(store, "a"))
    assert states(engine) == {model_id("a"): "evaluating"}


def test_a_late_start_changes_nothing(engine: Engine, store: DirectoryArtifactStore) -> None:
    handle(engine, candidate(store, "a"), evaluation("e1", "a", passed=False),
           started("e1", "a"))
    assert states(engine) == {model_id("a"): "rejected"}
    handle(engine, candidate(store, "b"), started("e2", "b"), started("e3", "b"))
    assert [step[1] for step in history(engine, "b")] == ["candidate", "evaluating"]
    with session_scope(engine, read_only=True) as session:
        assert session.get(Evaluation, "e1").started_at is not None


def test_a_start_for_another_config_s_model_is_poison(engine: Engine,
                                                      store: DirectoryArtifactStore) -> None:
    handle(engine, candidate(store, "a"))
    with pytest.raises(PoisonMessage, match="registered for square8_2p"), \
            session_scope(engine) as session:
        Promoter()(started("e1", "a", config="hex8_2p"), session)
    assert states(engine) == {model_id("a"): "candidate"}


def test_an_early_evaluation_for_another_config_is_ignored_at_registration(
        engine: Engine, store: DirectoryArtifactStore) -> None:
    handle(engine, started("e1", "a", config="hex8_2p"),
           evaluation("e2", "a", passed=True, config="hex8_2p"), candidate(store, "a"))
    assert states(engine) == {model_id("a"): "candidate"}
    assert current(engine) == (None, 0)
    with session_scope(engine, read_only=True) as session:
        for evaluation_id in ("e1", "e2"):
            row = session.get(Evaluation, evaluation_id)
            assert row.decision == "ignored"
            assert "registered for square8_2p" in row.decision_reason


def ratings(engine: Engine) -> dict[str, float | None]:
    with session_scope(engine, read_only=True) as session:
        return {model.model_id: model.rating for model in session.query(Model)}


def test_models_take_the_newest_ratings_of_the_match_log(engine: Engine,
                                                         store: DirectoryArtifactStore) -> None:
    handle(engine, candidate(store, "a"), candidate(store, "b"), candidate(store, "c"))
    first = evaluation("e1", "a", passed=True, elo=40.0, ratings={"a": 40.0, "random": 0.0})
    second = evaluation("e2", "b", passed=True, opponent="a", elo=90.0,
                        ratings={"a": 55.0, "b": 90.0, "zz": 10.0})
    handle(engine, first, second)
    assert ratings(engine) == {model_id("a"): 55.0, model_id("b"): 90.0, model_id("c"): None}
    late = evaluation("e0", "c", passed=False, opponent="b", elo=20.0, ratings={"a": 1.0})
    late = Event(**{**late.__dict__, "produced_at": first.produced_at.replace(year=2020)})
    handle(engine, late)
    assert ratings(engine) == {model_id("a"): 55.0, model_id("b"): 90.0, model_id("c"): 20.0}
    with session_scope(engine, read_only=True) as session:
        model = session.get(Model, model_id("a"))
        assert (model.rating_lower, model.rating_upper, model.rating_confidence) == (
            35.0, 75.0, 0.95)


def test_the_opponent_is_read_from_the_first_result_when_the_gate_does_not_name_it(
        engine: Engine, store: DirectoryArtifactStore) -> None:
    handle(engine, candidate(store, "a"), candidate(store, "b"),
           evaluation("e1", "a", passed=True))
    result = evaluation("e2", "b", passed=True, opponent="a")
    result.payload.gate.opponent_model_id = ""
    handle(engine, result)
    assert current(engine) == (model_id("b"), 2)
