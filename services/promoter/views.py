"""Read views of the registry for the REST API: model lists, details, pipeline status.

Plain queries on the promoter's own tables, run in a read-only transaction (on SQLite
they never wait for a writer). "Time since each stage last produced" comes from the
events the promoter consumes: shards (export), candidates (training), evaluation
results, and its own promotions.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.promoter.lifecycle import State
from services.promoter.registry import find_model, get_model, now, utc
from services.promoter.schemas import (
    AuditView,
    EvaluationView,
    ModelDetails,
    ModelList,
    ModelSummary,
    PipelineStatus,
    Rating,
    StageStatus,
    TransitionView,
    Weights,
)
from services.promoter.tables import AuditEntry, ConfigState, Evaluation, Model, Transition

LINEAGE_LIMIT = 1000
"""Ancestors shown at most (a guard against a cycle of ids in bad data)."""


def model_list(session: Session, config_key: str, state: State | None = None,
               limit: int = 100) -> ModelList:
    """The config's models, newest first (optionally only those in ``state``)."""
    config = session.get(ConfigState, config_key)
    statement = select(Model).where(Model.config_key == config_key)
    if state is not None:
        statement = statement.where(Model.state == state.value)
    rows = session.scalars(statement.order_by(Model.registered_at.desc(), Model.model_id)
                           .limit(limit))
    return ModelList(config_key=config_key,
                     current_model_id=config.current_model_id if config else None,
                     revision=config.revision if config else 0,
                     models=[summary(model) for model in rows])


def model_details(session: Session, model_id: str) -> ModelDetails:
    """One model with its weights, lineage, children, history and evaluations.

    Raises:
        UnknownModel: no such model.
    """
    model = get_model(session, model_id)
    history = session.scalars(select(Transition).where(Transition.model_id == model_id)
                              .order_by(Transition.id))
    evaluations = session.scalars(select(Evaluation).where(Evaluation.model_id == model_id)
                                  .order_by(Evaluation.completed_at))
    children = session.scalars(select(Model.model_id).where(
        Model.parent_model_id == model_id).order_by(Model.registered_at))
    return ModelDetails(
        **summary(model).model_dump(),
        weights=Weights(uri=model.weights_uri, sha256=model.weights_sha256,
                        size_bytes=model.weights_size),
        losses=dict(model.losses), shard_ids=list(model.shard_ids),
        lineage=lineage(session, model), children=list(children),
        history=[transition_view(row) for row in history],
        evaluations=[evaluation_view(row) for row in evaluations])


def pipeline_status(session: Session, config_key: str) -> PipelineStatus:
    """Where a config's pipeline stands: current model, latest candidate and evaluation,
    and how long ago each stage last produced."""
    config = session.get(ConfigState, config_key) or ConfigState(config_key=config_key,
                                                                 revision=0)
    def model(model_id: str | None) -> ModelSummary | None:
        found = find_model(session, model_id, fresh=False) if model_id else None
        return summary(found) if found is not None else None
    evaluation = (session.get(Evaluation, config.latest_evaluation_id)
                  if config.latest_evaluation_id else None)
    moment = now()
    counts = session.execute(select(Model.state, func.count()).where(
        Model.config_key == config_key).group_by(Model.state))
    return PipelineStatus(
        config_key=config_key, current_model_id=config.current_model_id,
        revision=config.revision or 0, current=model(config.current_model_id),
        latest_candidate=model(config.latest_candidate_id),
        latest_evaluation=evaluation_view(evaluation) if evaluation is not None else None,
        stages=[StageStatus(stage=stage, last_produced_at=utc(at), seconds_since=(
            max(0.0, (moment - at_utc).total_seconds()) if (at_utc := utc(at)) else None))
            for stage, at in config.stage_times()],  # type: ignore[arg-type]
        models_by_state={state: int(count) for state, count in counts})


def known_configs(session: Session) -> list[str]:
    """The configs the registry has heard of (any event), in order."""
    return list(session.scalars(select(ConfigState.config_key).order_by(
        ConfigState.config_key)))


def audit_log(session: Session, limit: int = 100) -> list[AuditView]:
    """The newest manual actions first."""
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    return [AuditView(at=utc(row.at), actor=row.actor, action=row.action,  # type: ignore[arg-type]
                      config_key=row.config_key or None, model_id=row.model_id or None,
                      reason=row.reason, detail=dict(row.detail)) for row in rows]


def lineage(session: Session, model: Model) -> list[str]:
    """The model's ancestors, parent first, as far as they are registered (the last one may
    be an unregistered id)."""
    found: list[str] = []
    parent = model.parent_model_id
    while parent and parent not in found and len(found) < LINEAGE_LIMIT:
        found.append(parent)
        row = find_model(session, parent, fresh=False)
        parent = row.parent_model_id if row is not None else ""
    return found


def summary(model: Model) -> ModelSummary:
    return ModelSummary(
        model_id=model.model_id, config_key=model.config_key, state=State(model.state),
        current=model.state == State.PROMOTED, parent_model_id=model.parent_model_id or None,
        architecture=model.architecture, encoder_version=model.encoder_version,
        train_step=model.train_step, samples_seen=model.samples_seen,
        rating=_rating(model.rating, model.rating_lower, model.rating_upper,
                       model.rating_confidence),
        trained_at=utc(model.trained_at), registered_at=utc(model.registered_at),  # type: ignore[arg-type]
        state_changed_at=utc(model.state_changed_at))  # type: ignore[arg-type]


def transition_view(row: Transition) -> TransitionView:
    return TransitionView(model_id=row.model_id, from_state=State(row.from_state) if
                          row.from_state else None, to_state=State(row.to_state),
                          at=utc(row.at), cause=row.cause, actor=row.actor,  # type: ignore[arg-type]
                          reason=row.reason, evaluation_id=row.evaluation_id or None,
                          revision=row.revision)


def evaluation_view(row: Evaluation) -> EvaluationView:
    return EvaluationView(
        evaluation_id=row.evaluation_id, model_id=row.model_id,
        opponent_model_id=row.opponent_model_id or None, started_at=utc(row.started_at),
        completed_at=utc(row.completed_at), passed=row.passed, method=row.method,
        statistic=row.statistic, summary=row.summary, games_played=row.games_played,
        rating=_rating(row.elo, row.elo_lower, row.elo_upper, row.elo_confidence),
        decision=row.decision or None, decision_reason=row.decision_reason)


def _rating(value: float | None, lower: float | None, upper: float | None,
            confidence: float | None) -> Rating | None:
    if value is None:
        return None
    return Rating(value=value, lower=lower, upper=upper, confidence=confidence)
