"""The model registry: every state change of a model, applied under its config's lock.

All changes of one config go through :func:`lock_config` first, in the caller's
transaction, so that the gate (a consumer handler) and people (REST calls) never decide
about one config at the same time: on PostgreSQL the ``config_state`` row is locked with
``SELECT ... FOR UPDATE`` (a second promote waits, then sees the first one's result and is
refused); on SQLite every writer holds the database's write lock from its first statement.
A change returns a :class:`Decision`: the state changes made (recorded in
``transitions``) and, when the current model changed, the new ``CurrentModel`` with its
revision. :func:`decision_outputs` turns it into the lifecycle and current-model events,
which the caller puts into the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ringrift.errors import RingriftError
from ringrift.events.envelope import Event
from ringrift.events.gen.common.v1.common_pb2 import ArtifactRef
from ringrift.events.gen.model.v1.model_pb2 import CurrentModel, ModelLifecycleChanged
from ringrift.events.outbox import Output
from ringrift.events.topics import MODEL_CURRENT, MODEL_LIFECYCLE
from services.promoter.lifecycle import Cause, State, check
from services.promoter.tables import ConfigState, Model, Transition

GATE_ACTOR = "promoter"
"""The actor of the gate's decisions in the history and in lifecycle events."""
_PUBLISHED = {
    State.PROMOTED: ModelLifecycleChanged.PROMOTED,
    State.REJECTED: ModelLifecycleChanged.REJECTED,
    State.SUPERSEDED: ModelLifecycleChanged.SUPERSEDED,
    State.ROLLED_BACK: ModelLifecycleChanged.ROLLED_BACK,
}
"""The states announced on ``model.lifecycle``; candidate and evaluating stay internal."""


class UnknownModel(RingriftError):
    """No model with that id is registered (REST: 404)."""


@dataclass(frozen=True)
class Change:
    """One model's state change, as recorded and announced."""

    model_id: str
    config_key: str
    from_state: State
    to_state: State
    cause: Cause
    actor: str
    reason: str
    evaluation_id: str
    previous_model_id: str
    """The config's current model before the decision ("" if none)."""
    at: datetime
    revision: int
    """The config's revision after the decision."""


@dataclass
class Decision:
    """What one decision changed in one config."""

    config_key: str
    revision: int
    changes: list[Change] = field(default_factory=list)
    current: CurrentModel | None = None
    """The new current model, when the decision changed it."""


EventMaker = Callable[[Message, str], Event[Message]]
"""Makes the event for a payload and a name unique within the decision (ids derive from it)."""


def now() -> datetime:
    return datetime.now(UTC)


def utc(moment: datetime | None) -> datetime | None:
    """``moment`` with its time zone (SQLite gives stored UTC times back without one)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def later(first: datetime | None, second: datetime) -> datetime:
    """The later of two times (events of one stage may arrive out of order)."""
    first = utc(first)
    return second if first is None or second > first else first


def lock_config(session: Session, config_key: str) -> ConfigState:
    """The config's state row, created if missing and locked until the transaction ends."""
    dialect = session.get_bind().dialect.name
    insert_row = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(ConfigState)
    session.execute(insert_row.values(config_key=config_key, revision=0)
                    .on_conflict_do_nothing(index_elements=["config_key"]))
    return session.execute(
        select(ConfigState).where(ConfigState.config_key == config_key).with_for_update()
        .execution_options(populate_existing=True)).scalar_one()


def find_model(session: Session, model_id: str, *, fresh: bool = True) -> Model | None:
    """The registered model ``model_id``; ``fresh`` rereads it (after taking the lock)."""
    statement = select(Model).where(Model.model_id == model_id)
    if fresh:
        statement = statement.execution_options(populate_existing=True)
    return session.execute(statement).scalar_one_or_none()


def get_model(session: Session, model_id: str) -> Model:
    """Like :func:`find_model`, but an unknown id is an error.

    Raises:
        UnknownModel: no such model is registered.
    """
    model = find_model(session, model_id)
    if model is None:
        raise UnknownModel(f"no model {model_id!r} is registered (models are registered "
                           "from the trainer's CandidateReady events)")
    return model


def move(session: Session, decision: Decision, model: Model, target: State, cause: Cause, *,
         actor: str, reason: str, evaluation_id: str = "", previous_model_id: str = "") -> None:
    """Change ``model``'s state (checked by the lifecycle) and record it in the history.

    Raises:
        IllegalTransition: the lifecycle does not allow it.
    """
    current = State(model.state)
    check(model.model_id, current, target, cause)
    at = now()
    model.state, model.state_changed_at = target.value, at
    session.add(Transition(model_id=model.model_id, config_key=model.config_key,
                           from_state=current.value, to_state=target.value, at=at,
                           cause=cause.value, actor=actor, reason=reason,
                           evaluation_id=evaluation_id, revision=decision.revision))
    decision.changes.append(Change(model.model_id, model.config_key, current, target, cause,
                                   actor, reason, evaluation_id, previous_model_id, at,
                                   decision.revision))


def make_current(session: Session, config: ConfigState, model: Model, cause: Cause, *,
                 actor: str, reason: str, evaluation_id: str = "") -> Decision:
    """Make ``model`` its config's current model; the one it replaces is superseded (or,
    for a rollback, rolled back). The revision grows by one.

    Raises:
        IllegalTransition: ``model`` may not become current by ``cause``.
    """
    check(model.model_id, State(model.state), State.PROMOTED, cause)
    previous_id = config.current_model_id or ""
    config.revision += 1
    decision = Decision(config.config_key, config.revision)
    common = {"actor": actor, "reason": reason, "evaluation_id": evaluation_id,
              "previous_model_id": previous_id}
    if previous_id:
        previous = find_model(session, previous_id)
        assert previous is not None, "the current model is a registered model"
        replaced = State.ROLLED_BACK if cause is Cause.ROLLBACK else State.SUPERSEDED
        move(session, decision, previous, replaced,
             Cause.ROLLBACK if cause is Cause.ROLLBACK else Cause.SUCCESSION, **common)
    move(session, decision, model, State.PROMOTED, cause, **common)
    config.current_model_id = model.model_id
    config.last_promotion_at = now()
    decision.current = CurrentModel(
        config_key=model.config_key, model_id=model.model_id, architecture=model.architecture,
        encoder_version=model.encoder_version, revision=config.revision,
        weights=ArtifactRef(uri=model.weights_uri, sha256=model.weights_sha256,
                            size_bytes=model.weights_size))
    return decision


def decision_outputs(decision: Decision, make_event: EventMaker) -> list[Output]:
    """The lifecycle events of ``decision`` and, if it changed, the new current model."""
    outputs: list[Output] = []
    for change in decision.changes:
        transition = _PUBLISHED.get(change.to_state)
        if transition is None:
            continue
        payload = ModelLifecycleChanged(
            transition=transition, model_id=change.model_id, config_key=change.config_key,
            previous_model_id=change.previous_model_id, reason=change.reason,
            actor=change.actor, evaluation_id=change.evaluation_id)
        outputs.append((MODEL_LIFECYCLE,
                        make_event(payload, f"lifecycle/{change.model_id}/{change.to_state}")))
    if decision.current is not None:
        outputs.append((MODEL_CURRENT,
                        make_event(decision.current, f"current/{decision.revision}")))
    return outputs


def add_model(session: Session, config: ConfigState, model: Model) -> Model:
    """Register ``model`` (a new row, state candidate) with the first line of its history."""
    model.state = State.CANDIDATE.value
    model.state_changed_at = model.registered_at
    session.add(model)
    session.add(Transition(model_id=model.model_id, config_key=model.config_key,
                           from_state="", to_state=State.CANDIDATE.value,
                           at=model.registered_at, cause="registration", actor="trainer",
                           reason="registered from its CandidateReady", evaluation_id="",
                           revision=config.revision))
    session.flush()
    return model
