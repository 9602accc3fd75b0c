"""Where the evaluator's gate becomes a decision: evaluations started and completed.

``EvaluationStarted`` moves a candidate to ``evaluating``. ``EvaluationCompleted`` decides:
promote if the gate passed against the model that is still current (``uniform`` before the
first promotion), else reject; the decision is the promoter's, the statistics are the
evaluator's (``gate.passed`` alone). Each evaluation id is decided once, so a redelivered or
republished result never promotes twice, and each model once (a later result for it is
kept and ignored). Either event may arrive before the candidate it names (separate topics,
no order between them): it waits in ``evaluations`` and takes effect when the candidate
registers (:func:`catch_up`). Every completed evaluation also carries the ratings of the
config's whole match log: the registered models take the newest ones.
"""

from __future__ import annotations

import logging
from datetime import datetime

from google.protobuf.message import Message
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ringrift.errors import PoisonMessage
from ringrift.events.envelope import Event, follow_up
from ringrift.events.gen.model.v1.model_pb2 import EvaluationCompleted, EvaluationStarted
from ringrift.events.outbox import Output
from services.promoter import metrics
from services.promoter.inputs import checked_config, checked_id
from services.promoter.lifecycle import UNDECIDED, Cause, State
from services.promoter.registry import (
    GATE_ACTOR,
    Decision,
    decision_outputs,
    find_model,
    later,
    lock_config,
    make_current,
    move,
    utc,
)
from services.promoter.tables import ConfigState, Evaluation, Model

log = logging.getLogger(__name__)
EVALUATOR = "evaluator"
"""The actor of ``candidate -> evaluating`` in the history."""
NO_MODEL = frozenset({"", "uniform"})
"""What an evaluation names as its opponent before any model is current (the evaluator
plays the uniform evaluator, ``ringrift.evaluation.UNIFORM_ID``)."""


def evaluation_started(event: Event[EvaluationStarted], session: Session) -> list[Output]:
    """Record the start; the candidate (once registered) is ``evaluating``.

    Raises:
        PoisonMessage: a bad config or id, or an evaluation id that named another model.
    """
    start = event.payload
    config, evaluation = _evaluation(event, session, start.evaluation_id, start.model_id,
                                     start.config_key)
    if evaluation.started_at is None:
        evaluation.started_at = event.produced_at
    if not evaluation.opponent_model_id:
        evaluation.opponent_model_id = start.opponent_model_id
    config.last_evaluation_started_at = later(config.last_evaluation_started_at,
                                              event.produced_at)
    metrics.stage_produced(session, config.config_key, "evaluation_start",
                           config.last_evaluation_started_at)
    model = find_model(session, start.model_id)
    if model is not None and evaluation.completed_at is None:
        _check_model_config(model, config.config_key, start.evaluation_id)
        _start(session, config, model, evaluation)
    return []


def evaluation_completed(event: Event[EvaluationCompleted], session: Session) -> list[Output]:
    """Record the result, take its ratings, decide on its model (or wait for the model).

    Raises:
        PoisonMessage: a bad config or id, no gate decision, or an evaluation id that
            named another model.
    """
    result = event.payload
    if not result.HasField("gate"):
        raise PoisonMessage(f"evaluation {result.evaluation_id!r} has no gate decision; the "
                            "promoter decides from it")
    config, evaluation = _evaluation(event, session, result.evaluation_id, result.model_id,
                                     result.config_key)
    if evaluation.completed_at is not None:
        return []  # the same result again (a redelivery or a republished event): decided once
    record_result(evaluation, result, event.produced_at)
    config.last_evaluation_at = later(config.last_evaluation_at, event.produced_at)
    metrics.stage_produced(session, config.config_key, "evaluation", config.last_evaluation_at)
    apply_ratings(session, config.config_key, result, event.produced_at)
    model = find_model(session, result.model_id)
    if model is None:
        evaluation.decision_reason = "waiting for the model's CandidateReady"
        metrics.after_commit(session, lambda: metrics.EVALUATIONS.labels(
            config.config_key, "waiting").inc())
        return []
    _check_model_config(model, config.config_key, result.evaluation_id)
    return decide(session, config, model, evaluation, event)


def catch_up(session: Session, config: ConfigState, model: Model,
             cause: Event[Message]) -> list[Output]:
    """Apply the evaluations of a just registered ``model`` that arrived before it."""
    waiting = session.scalars(select(Evaluation).where(
        Evaluation.model_id == model.model_id, Evaluation.decision == "",
        or_(Evaluation.started_at.is_not(None), Evaluation.completed_at.is_not(None)))
        .order_by(Evaluation.completed_at.is_(None), Evaluation.completed_at)).all()
    outputs: list[Output] = []
    for evaluation in waiting:  # completed first: the first decides, later ones are ignored
        if evaluation.config_key != model.config_key:
            # Its event could not be checked against the model before the model existed.
            _settle(session, evaluation, "ignored", f"evaluation {evaluation.evaluation_id} "
                    f"named {evaluation.config_key}, but model {model.model_id} was "
                    f"registered for {model.config_key}")
            log.warning("%s", evaluation.decision_reason)
        elif evaluation.completed_at is not None:
            if evaluation.elo is not None and model.rating is None:
                _rate(model, evaluation.elo, evaluation.elo_lower, evaluation.elo_upper,
                      evaluation.elo_confidence, evaluation.completed_at)
            outputs += decide(session, config, model, evaluation, cause)
        else:
            _start(session, config, model, evaluation)
    return outputs


def decide(session: Session, config: ConfigState, model: Model, evaluation: Evaluation,
           cause: Event[Message]) -> list[Output]:
    """The gate's decision on ``model`` from ``evaluation``, applied to the registry."""
    if State(model.state) not in UNDECIDED:
        return _settle(session, evaluation, "ignored", f"model {model.model_id} is "
                       f"{model.state} already; an evaluation decides an undecided model once")
    decision = Decision(config.config_key, config.revision)
    if model.state == State.CANDIDATE:
        move(session, decision, model, State.EVALUATING, Cause.EVALUATION, actor=EVALUATOR,
             reason=f"evaluation {evaluation.evaluation_id} (its start was not seen)",
             evaluation_id=evaluation.evaluation_id)
    gate = {"actor": GATE_ACTOR, "evaluation_id": evaluation.evaluation_id}
    current = config.current_model_id or ""
    opponent = "" if evaluation.opponent_model_id in NO_MODEL else evaluation.opponent_model_id
    summary = evaluation.summary or f"{evaluation.method} statistic {evaluation.statistic}"
    if evaluation.passed and opponent == current:
        promotion = make_current(session, config, model, Cause.GATE,
                                 reason=f"gate: passed; {summary}", **gate)
        promotion.changes[:0] = decision.changes
        decision, outcome = promotion, "promoted"
    else:
        reason = (f"gate: passed against {opponent or 'no model'}, but {current or 'no model'}"
                  " is current now; a stale evaluation never promotes" if evaluation.passed
                  else f"gate: failed; {summary}")
        move(session, decision, model, State.REJECTED, Cause.GATE, reason=reason,
             previous_model_id=current, **gate)
        outcome = "rejected"
    _settle(session, evaluation, outcome, decision.changes[-1].reason)
    metrics.count_decision(session, decision)
    log.info("%s %s of %s: %s", outcome, model.model_id, model.config_key,
             decision.changes[-1].reason)
    return decision_outputs(decision, lambda payload, name: follow_up(
        cause, payload, producer=GATE_ACTOR, name=name, config_key=config.config_key))


def record_result(evaluation: Evaluation, result: EvaluationCompleted, at: datetime) -> None:
    """Copy what the evaluator reported into the evaluation's row."""
    gate = result.gate
    evaluation.completed_at = at
    evaluation.opponent_model_id = gate_opponent(result) or evaluation.opponent_model_id
    evaluation.passed = gate.passed
    evaluation.method, evaluation.statistic = gate.method, gate.statistic
    evaluation.summary, evaluation.games_played = gate.summary, result.games_played
    if result.HasField("elo"):
        evaluation.elo, evaluation.elo_lower = result.elo.value, result.elo.lower
        evaluation.elo_upper, evaluation.elo_confidence = result.elo.upper, result.elo.confidence


def gate_opponent(result: EvaluationCompleted) -> str:
    """The model the gate played against (``gate.opponent_model_id``; from evaluators that
    do not set it, the first per-opponent result, which is the gate's)."""
    if result.gate.opponent_model_id:
        return result.gate.opponent_model_id
    return result.results[0].opponent_model_id if result.results else ""


def apply_ratings(session: Session, config_key: str, result: EvaluationCompleted,
                  at: datetime) -> None:
    """Give the config's registered models the ratings of the match log as of ``at``
    (an older result arriving late never overwrites newer ratings)."""
    ratings = {rating.player_id: rating.elo for rating in result.ratings}
    if result.HasField("elo"):
        ratings.setdefault(result.model_id, result.elo)
    if not ratings:
        return
    models = session.scalars(select(Model).where(Model.config_key == config_key,
                                                 Model.model_id.in_(ratings)))
    for model in models:
        rated_at = utc(model.rated_at)
        if rated_at is None or at >= rated_at:
            elo = ratings[model.model_id]
            _rate(model, elo.value, elo.lower, elo.upper, elo.confidence or None, at)


def _rate(model: Model, value: float, lower: float | None, upper: float | None,
          confidence: float | None, at: datetime) -> None:
    model.rating, model.rating_lower, model.rating_upper = value, lower, upper
    model.rating_confidence, model.rated_at = confidence, at


def _evaluation(event: Event[Message], session: Session, evaluation_id: str, model_id: str,
                config_key: str) -> tuple[ConfigState, Evaluation]:
    """The checked config (locked) and the evaluation's row (created if new)."""
    what = f"evaluation {evaluation_id!r}"
    config_key = checked_config(event, config_key, what)
    checked_id(evaluation_id, "evaluation_id", what)
    checked_id(model_id, "model_id", what)
    config = lock_config(session, config_key)
    evaluation = session.get(Evaluation, evaluation_id, populate_existing=True)
    if evaluation is None:
        evaluation = Evaluation(evaluation_id=evaluation_id, model_id=model_id,
                                config_key=config_key, decision="", decision_reason="")
        session.add(evaluation)
    elif evaluation.model_id != model_id:
        raise PoisonMessage(f"{what} is about model {model_id}, but the same id was about "
                            f"{evaluation.model_id} before")
    config.latest_evaluation_id = evaluation_id  # one config's evaluations run one by one
    return config, evaluation


def _start(session: Session, config: ConfigState, model: Model,
           evaluation: Evaluation) -> None:
    if model.state != State.CANDIDATE:
        return  # evaluated again, or decided already: the start changes nothing
    move(session, Decision(config.config_key, config.revision), model, State.EVALUATING,
         Cause.EVALUATION, actor=EVALUATOR, reason=f"evaluation {evaluation.evaluation_id} "
         f"started against {evaluation.opponent_model_id or 'no model'}",
         evaluation_id=evaluation.evaluation_id)


def _check_model_config(model: Model, config_key: str, evaluation_id: str) -> None:
    if model.config_key != config_key:
        raise PoisonMessage(f"evaluation {evaluation_id!r} says model {model.model_id} is of "
                            f"{config_key}, but it was registered for {model.config_key}")


def _settle(session: Session, evaluation: Evaluation, decision: str,
            reason: str) -> list[Output]:
    evaluation.decision, evaluation.decision_reason = decision, reason
    metrics.after_commit(session, lambda: metrics.EVALUATIONS.labels(
        evaluation.config_key, decision).inc())
    return []
