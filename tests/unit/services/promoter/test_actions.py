"""Manual promotion and rollback, on a migrated SQLite database.

Checks: a manual promote makes a candidate (or a rejected model) current, supersedes the
current one and audits who, what and why; promoting the current model again, or a model
that was current before, is refused and changes nothing; a rollback makes the previous
current model current again and records rolled_back for the replaced one (the default
target, and an explicit earlier one), with the revision growing each time; every bad
rollback (no current model, no earlier one, the current one, another config's model, a
model never current, an unknown id) is refused; a stale expected revision is refused.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from ringrift.events.envelope import new_event
from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.storage.database import session_scope
from services.promoter import actions
from services.promoter.actions import RevisionMoved
from services.promoter.handlers import Promoter
from services.promoter.lifecycle import IllegalTransition
from services.promoter.registry import UnknownModel, decision_outputs
from services.promoter.tables import AuditEntry
from tests.utils.promoter import candidate, current, evaluation, history, model_id, states


def setup(engine: Engine, store: DirectoryArtifactStore, *events) -> None:
    for event in events:
        with session_scope(engine) as session:
            Promoter()(event, session)


def promote(engine: Engine, name: str, **options):
    with session_scope(engine) as session:
        return actions.promote(session, model_id(name), actor="alice", reason="looks strong",
                               **options)


def rollback(engine: Engine, to: str | None = None, config: str = "square8_2p", **options):
    with session_scope(engine) as session:
        return actions.rollback(session, config, actor="bob", reason="regressed",
                                model_id=model_id(to) if to else None, **options)


def audit(engine: Engine) -> list[tuple[str, str, str, str]]:
    with session_scope(engine, read_only=True) as session:
        return [(row.actor, row.action, row.model_id, row.reason)
                for row in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_a_manual_promotion_supersedes_and_is_audited(engine: Engine,
                                                      store: DirectoryArtifactStore) -> None:
    setup(engine, store, candidate(store, "a"), candidate(store, "b"),
          evaluation("e1", "a", passed=True), evaluation("e2", "b", passed=False, opponent="a"))
    decision = promote(engine, "b", expected_revision=1)
    assert (decision.revision, decision.current.model_id) == (2, model_id("b"))
    assert states(engine) == {model_id("a"): "superseded", model_id("b"): "promoted"}
    assert history(engine, "b")[-1] == ("rejected", "promoted", "manual", "alice")
    assert audit(engine) == [("alice", "promote", model_id("b"), "looks strong")]
    [promoted] = [event.payload for _, event in decision_outputs(decision, lambda payload, _name:
                  new_event(payload, config_key="square8_2p", producer="promoter"))
                  if event.payload.DESCRIPTOR.name == "ModelLifecycleChanged"
                  and event.payload.model_id == model_id("b")]
    assert (promoted.actor, promoted.reason, promoted.evaluation_id) == (
        "alice", "manual: looks strong", "")


def test_refused_promotions_change_nothing(engine: Engine, store: DirectoryArtifactStore) -> None:
    setup(engine, store, candidate(store, "a"), candidate(store, "b"))
    promote(engine, "a")
    promote(engine, "b")
    for name, error, text in (("b", IllegalTransition, "current model of square8_2p already"),
                              ("a", IllegalTransition, "roll its config back to it"),
                              ("zz", UnknownModel, "no model")):
        with pytest.raises(error, match=text):
            promote(engine, name)
    with pytest.raises(RevisionMoved, match="at revision 2 .* not 1"):
        setup(engine, store, candidate(store, "c"))
        promote(engine, "c", expected_revision=1)
    assert current(engine) == (model_id("b"), 2)
    assert len(audit(engine)) == 2


def test_rollback_to_the_previous_model(engine: Engine, store: DirectoryArtifactStore) -> None:
    setup(engine, store, candidate(store, "a"), candidate(store, "b"), candidate(store, "c"))
    for name in "abc":
        promote(engine, name)
    decision = rollback(engine)
    assert (decision.revision, decision.current.model_id) == (4, model_id("b"))
    assert states(engine) == {model_id("a"): "superseded", model_id("b"): "promoted",
                              model_id("c"): "rolled_back"}
    assert history(engine, "c")[-1] == ("promoted", "rolled_back", "rollback", "bob")
    assert history(engine, "b")[-1] == ("superseded", "promoted", "rollback", "bob")
    assert rollback(engine, to="a", expected_revision=4).revision == 5
    assert states(engine)[model_id("a")] == "promoted"
    assert states(engine)[model_id("b")] == "rolled_back"
    rollback(engine, to="c")  # a rolled-back model may become current again
    assert current(engine) == (model_id("c"), 6)
    assert [row[1] for row in audit(engine)] == ["promote"] * 3 + ["rollback"] * 3


def test_bad_rollbacks_are_refused(engine: Engine, store: DirectoryArtifactStore) -> None:
    with pytest.raises(IllegalTransition, match="no current model"):
        rollback(engine)
    setup(engine, store, candidate(store, "a"), candidate(store, "b"),
          candidate(store, "x", config="hex8_2p"))
    promote(engine, "a")
    with pytest.raises(IllegalTransition, match="one current model only"):
        rollback(engine)
    for to, error, text in (("a", IllegalTransition, "current model of square8_2p already"),
                            ("b", IllegalTransition, "can be rolled back to"),
                            ("x", IllegalTransition, "a model of hex8_2p, not of square8_2p"),
                            ("zz", UnknownModel, "no model")):
        with pytest.raises(error, match=text):
            rollback(engine, to=to)
    with pytest.raises(RevisionMoved):
        rollback(engine, expected_revision=0)
    assert current(engine) == (model_id("a"), 1) and len(audit(engine)) == 1

