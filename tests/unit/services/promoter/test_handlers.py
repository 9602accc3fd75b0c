"""The promoter's consumer handler as plain functions, on a migrated SQLite database.

Checks: a candidate is registered once (its weights checked in a real store); a passing
gate promotes it and publishes PROMOTED and CurrentModel revision 1, a second one
supersedes the first (revision 2); a failing gate rejects; a redelivered or republished
result (same evaluation id) decides nothing again; a second evaluation of a decided model
is recorded and ignored; a pass against a model that is no longer current is rejected; a
result that arrives before its candidate waits and is decided at registration; ratings
are kept; malformed input of every kind is poison and changes nothing; shards only move
the export stage's time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from ringrift.errors import PoisonMessage
from ringrift.events.envelope import new_event
from ringrift.events.gen.model.v1.model_pb2 import CurrentModel, ModelLifecycleChanged
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted, ShardWritten
from ringrift.events.topics import MODEL_CURRENT, MODEL_LIFECYCLE
from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.storage.database import session_scope
from services.promoter.handlers import Promoter
from services.promoter.tables import ConfigState, Evaluation, Model, Transition
from tests.utils.promoter import candidate, current, evaluation, history, model_id, states

PROMOTED, SUPERSEDED, REJECTED = (ModelLifecycleChanged.PROMOTED,
                                  ModelLifecycleChanged.SUPERSEDED,
                                  ModelLifecycleChanged.REJECTED)


def handle(engine: Engine, *events, handler: Promoter | None = None) -> list:
    handler = handler or Promoter()
    outputs: list = []
    for event in events:
        with session_scope(engine) as session:
            outputs += handler(event, session)
    return outputs


def lifecycle(outputs: list) -> list[tuple[int, str, str]]:
    return [(event.payload.transition, event.payload.model_id, event.payload.previous_model_id)
            for topic, event in outputs if topic is MODEL_LIFECYCLE]


def currents(outputs: list) -> list[CurrentModel]:
    return [event.payload for topic, event in outputs if topic is MODEL_CURRENT]


def count(engine: Engine, table: type) -> int:
    with session_scope(engine, read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(table)))


def test_a_candidate_is_registered_once(engine: Engine, store: DirectoryArtifactStore) -> None:
    event = candidate(store, "a")
    assert handle(engine, event, event) == []
    assert states(engine) == {model_id("a"): "candidate"}
    assert history(engine, "a") == [("", "candidate", "registration", "trainer")]
    with session_scope(engine, read_only=True) as session:
        model = session.get(Model, model_id("a"))
        assert (model.weights_sha256, model.train_step, model.losses, model.shard_ids) == (
            event.payload.weights.sha256, 100, {"policy": 1.5, "value": 0.4}, ["s1", "s2"])
    assert current(engine) == (None, 0)


def test_the_gate_promotes_then_supersedes(engine: Engine, store: DirectoryArtifactStore) -> None:
    handle(engine, candidate(store, "a"), candidate(store, "b", parent="a"))
    first = handle(engine, evaluation("e1", "a", passed=True))
    assert lifecycle(first) == [(PROMOTED, model_id("a"), "")]
    [model] = currents(first)
    assert (model.model_id, model.revision, model.architecture, model.encoder_version) == (
        model_id("a"), 1, "resnet-tiny", 2)
    assert model.weights.sha256 == candidate(store, "a").payload.weights.sha256
    second = handle(engine, evaluation("e2", "b", passed=True, opponent="a"))
    assert lifecycle(second) == [(SUPERSEDED, model_id("a"), model_id("a")),
                                 (PROMOTED, model_id("b"), model_id("a"))]
    assert [m.revision for m in currents(second)] == [2]
    assert states(engine) == {model_id("a"): "superseded", model_id("b"): "promoted"}
    assert current(engine) == (model_id("b"), 2)
    assert history(engine, "b") == [("", "candidate", "registration", "trainer"),
                                    ("candidate", "evaluating", "evaluation", "evaluator"),
                                    ("evaluating", "promoted", "gate", "promoter")]
    [event] = [e for t, e in second if t is MODEL_LIFECYCLE and e.payload.transition == PROMOTED]
    assert event.payload.actor == "promoter" and event.payload.evaluation_id == "e2"
    assert event.payload.reason.startswith("gate: passed; LLR 3.10")


def test_a_failing_gate_rejects(engine: Engine, store: DirectoryArtifactStore) -> None:
    outputs = handle(engine, candidate(store, "a"), evaluation("e1", "a", passed=False))
    assert lifecycle(outputs) == [(REJECTED, model_id("a"), "")]
    assert currents(outputs) == []
    assert states(engine) == {model_id("a"): "rejected"} and current(engine) == (None, 0)


def test_a_result_is_decided_once(engine: Engine, store: DirectoryArtifactStore) -> None:
    handle(engine, candidate(store, "a"))
    result = evaluation("e1", "a", passed=True)
    republished = evaluation("e1", "a", passed=True)  # same evaluation, a new event id
    assert len(handle(engine, result)) == 2
    assert handle(engine, result, republished) == []
    assert current(engine) == (model_id("a"), 1)
    assert count(engine, Transition) == 3


def test_a_decided_model_ignores_later_results(engine: Engine,
                                               store: DirectoryArtifactStore) -> None:
    handle(engine, candidate(store, "a"), evaluation("e1", "a", passed=False))
    assert handle(engine, evaluation("e2", "a", passed=True)) == []
    assert states(engine) == {model_id("a"): "rejected"}
    with session_scope(engine, read_only=True) as session:
        later = session.get(Evaluation, "e2")
        assert later.decision == "ignored" and "rejected already" in later.decision_reason


def test_a_stale_pass_never_promotes(engine: Engine, store: DirectoryArtifactStore) -> None:
    handle(engine, candidate(store, "a"), candidate(store, "b"), candidate(store, "c"))
    handle(engine, evaluation("e1", "a", passed=True))
    handle(engine, evaluation("e2", "b", passed=True, opponent="a"))
    outputs = handle(engine, evaluation("e3", "c", passed=True, opponent="a"))
    assert lifecycle(outputs) == [(REJECTED, model_id("c"), model_id("b"))]
    assert current(engine) == (model_id("b"), 2)
    with session_scope(engine, read_only=True) as session:
        assert "a stale evaluation never promotes" in session.get(Evaluation, "e3").decision_reason
    # Before the first promotion the gate plays the uniform evaluator; naming a model is stale.
    handle(engine, candidate(store, "x", config="hex8_2p"))
    outputs = handle(engine, evaluation("e4", "x", passed=True, opponent="a", config="hex8_2p"))
    assert lifecycle(outputs) == [(REJECTED, model_id("x"), "")]


def test_a_result_before_its_candidate_waits(engine: Engine,
                                              store: DirectoryArtifactStore) -> None:
    assert handle(engine, evaluation("e1", "a", passed=True)) == []
    assert states(engine) == {}
    with session_scope(engine, read_only=True) as session:
        assert session.get(Evaluation, "e1").decision == ""
    outputs = handle(engine, candidate(store, "a"))
    assert lifecycle(outputs) == [(PROMOTED, model_id("a"), "")]
    assert current(engine) == (model_id("a"), 1)


def test_ratings_are_kept(engine: Engine, store: DirectoryArtifactStore) -> None:
    handle(engine, candidate(store, "a"), evaluation("e1", "a", passed=True, elo=120.0))
    with session_scope(engine, read_only=True) as session:
        model = session.get(Model, model_id("a"))
        assert (model.rating, model.rating_lower, model.rating_upper,
                model.rating_confidence) == (120.0, 90.0, 150.0, 0.95)


def _unusable_weights(store: DirectoryArtifactStore):
    event = candidate(store, "w")
    path = store.path_for(event.payload.weights.sha256)
    path.chmod(0o644)
    path.write_bytes(b"not the weights")
    return event


def _mangled(event, **fields):
    payload = type(event.payload)()
    payload.CopyFrom(event.payload)
    for name, value in fields.items():
        if name == "weights_sha256":
            payload.weights.sha256 = value
        elif name == "gate":
            payload.ClearField("gate")
        else:
            setattr(payload, name, value)
    return new_event(payload, config_key=event.config_key, producer=event.producer)


@pytest.mark.parametrize("make, reason", [
    (lambda s: candidate(s, "a", config="chess_2p"), "not one of"),
    (lambda s: candidate(s, "a", envelope_config="hex8_2p"), "differs from the payload"),
    (lambda s: _mangled(candidate(s, "a"), model_id=""), "has model_id ''"),
    (lambda s: _mangled(candidate(s, "a"), model_id="x" * 65), "expected 1-64"),
    (lambda s: _mangled(candidate(s, "a"), parent_model_id="a b"), "parent_model_id"),
    (lambda s: _mangled(candidate(s, "a"), weights_sha256="xyz"), "no usable weights"),
    (lambda s: candidate(None, "a"), "no artifact at"),
    (_unusable_weights, "corrupt"),
    (lambda s: _mangled(evaluation("e1", "a", passed=True), gate=None), "no gate decision"),
    (lambda s: _mangled(evaluation("e1", "a", passed=True), evaluation_id=""), "evaluation_id"),
    (lambda s: evaluation("e1", "a", passed=True, config="hex9_2p"), "not one of"),
    (lambda s: new_event(GameCompleted(game_id="g", config_key="square8_2p"),
                         config_key="square8_2p", producer="selfplay"), "does not handle"),
])
def test_malformed_input_is_poison_and_changes_nothing(engine: Engine,
                                                       store: DirectoryArtifactStore,
                                                       make, reason: str) -> None:
    event = make(store)
    with pytest.raises(PoisonMessage, match=reason), session_scope(engine) as session:
        Promoter()(event, session)
    for table in (Model, Transition, Evaluation, ConfigState):
        assert count(engine, table) == 0, table


def test_one_id_names_one_model(engine: Engine, store: DirectoryArtifactStore) -> None:
    handle(engine, candidate(store, "a"), evaluation("e1", "b", passed=True))
    for event, reason in ((candidate(store, "a", weights=b"other"), "one id names one model"),
                          (candidate(store, "a", config="hex8_2p"), "registered already for"),
                          (evaluation("e1", "c", passed=True), "same id was about"),
                          (evaluation("e2", "a", passed=True, config="hex8_2p"),
                           "registered for square8_2p")):
        with pytest.raises(PoisonMessage, match=reason), session_scope(engine) as session:
            Promoter()(event, session)
    assert states(engine) == {model_id("a"): "candidate"}


def test_shards_move_only_the_export_stage(engine: Engine) -> None:
    early = datetime(2026, 1, 1, tzinfo=UTC)
    events = [new_event(ShardWritten(shard_id=f"s{i}", config_key="hex8_3p"),
                        config_key="hex8_3p", producer="exporter") for i in range(2)]
    events = [type(e)(**{**e.__dict__, "produced_at": early + timedelta(hours=h)})
              for e, h in zip(events, (2, 1), strict=True)]  # the later one arrives first
    assert handle(engine, *events) == []
    with session_scope(engine, read_only=True) as session:
        row: ConfigState = session.get(ConfigState, "hex8_3p")
        assert row.last_shard_at.replace(tzinfo=UTC) == early + timedelta(hours=2)
        assert (row.current_model_id, row.revision, row.last_candidate_at) == (None, 0, None)


def test_without_a_weights_check_nothing_is_read(engine: Engine) -> None:
    outputs = handle(engine, candidate(None, "a"), evaluation("e1", "a", passed=True),
                     handler=Promoter(check_weights=None))
    assert lifecycle(outputs) == [(PROMOTED, model_id("a"), "")]

