"""The evaluator's consumer handlers as plain functions, on a migrated SQLite database.

Checks: a candidate is recorded and becomes one ``evaluate`` job request naming its model
and weights; invalid candidates (unknown config, envelope disagreeing, no model id, no
weights URI, a malformed sha256) are poison naming the field, and record nothing; the
first ``PROMOTED`` of a config is recorded once (later promotions and other transitions
leave it); a lifecycle event naming an evaluation marks it decided; a lifecycle event of
an unknown config is poison.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from ringrift.errors import PoisonMessage
from ringrift.events.gen.model.v1.model_pb2 import ModelLifecycleChanged
from ringrift.storage.database import session_scope
from services.evaluator import handlers
from services.evaluator.tables import Candidate, Evaluation, FirstPromotion
from tests.utils.evaluator import SHA, candidate, lifecycle

PROMOTED = ModelLifecycleChanged.PROMOTED
REJECTED = ModelLifecycleChanged.REJECTED


def test_a_candidate_becomes_one_evaluation_job(engine) -> None:
    with session_scope(engine) as session:
        [request] = handlers.handle(candidate("m1", "hex8_3p"), session)
    assert request.kind == handlers.EVALUATE
    assert dict(request.params) == {"model_id": "m1", "config_key": "hex8_3p",
                                    "uri": "file:///w/m.pt", "sha256": SHA}
    with session_scope(engine, read_only=True) as session:
        [row] = session.scalars(select(Candidate)).all()
        assert (row.model_id, row.config_key, row.weights_uri, row.weights_sha256) == (
            "m1", "hex8_3p", "file:///w/m.pt", SHA)


@pytest.mark.parametrize("event, reason", [
    (candidate("m1", "chess_2p"), "not one of"),
    (candidate("m1", "hex8_2p", envelope_config="square8_2p"), "differs from the payload"),
    (candidate(""), "model_id must be"),
    (candidate("m1", uri=""), "weights.uri is empty"),
    (candidate("m1", sha256="XYZ"), "not 64 lower-case hex"),
])
def test_invalid_candidates_are_poison_and_record_nothing(engine, event, reason) -> None:
    with pytest.raises(PoisonMessage, match=reason), session_scope(engine) as session:
        handlers.handle(event, session)
    with session_scope(engine, read_only=True) as session:
        assert session.scalars(select(Candidate)).all() == []


def test_the_first_promotion_of_a_config_is_recorded_once(engine) -> None:
    events = [lifecycle(REJECTED, "m0"), lifecycle(PROMOTED, "m1"),
              lifecycle(PROMOTED, "m2", previous="m1"), lifecycle(PROMOTED, "h1", "hex8_2p")]
    with session_scope(engine) as session:
        for event in events:
            assert handlers.handle(event, session) == []
    with session_scope(engine, read_only=True) as session:
        first = {row.config_key: row.model_id for row in session.scalars(select(FirstPromotion))}
    assert first == {"square8_2p": "m1", "hex8_2p": "h1"}


def test_a_decision_marks_its_evaluation_decided(engine) -> None:
    with session_scope(engine) as session:
        for evaluation_id in ("ev-a", "ev-b"):
            session.add(Evaluation(evaluation_id=evaluation_id, config_key="square8_2p",
                                   number=1 if evaluation_id == "ev-a" else 2, model_id="m1",
                                   opponent_model_id="uniform", baselines=False, state="done",
                                   created_at=datetime.now(UTC), games=4, plan={}))
    with session_scope(engine) as session:
        handlers.handle(lifecycle(REJECTED, "m1", evaluation_id="ev-a"), session)
        handlers.handle(lifecycle(REJECTED, "m9", evaluation_id="ev-unknown"), session)
    with session_scope(engine, read_only=True) as session:
        decided = {row.evaluation_id: row.decided_at is not None
                   for row in session.scalars(select(Evaluation))}
    assert decided == {"ev-a": True, "ev-b": False}


def test_a_lifecycle_event_of_an_unknown_config_is_poison(engine) -> None:
    with pytest.raises(PoisonMessage, match="not one of"), session_scope(engine) as session:
        handlers.handle(lifecycle(PROMOTED, "m1", "go_2p"), session)
