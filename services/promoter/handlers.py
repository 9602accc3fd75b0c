"""The promoter's consumer handler: register candidates, decide on evaluations.

No Kafka and no environment here: a decoded event and a database session in, outputs
(lifecycle and current-model events, for the outbox) out. ``CandidateReady`` registers a
model (its weights checked in the artifact store first); ``EvaluationCompleted`` is where
the gate's verdict becomes a decision: promote if the gate passed against the model that
is still current, else reject. Each evaluation is decided once (by its id), so a
redelivered or republished result never promotes twice; a model is decided once (a
later result for it is recorded and ignored). Results may arrive before their
candidate (two topics, no order between them): they wait in ``evaluations`` and are
decided when the candidate is registered. ``ShardWritten`` only tells the pipeline
status when the export stage last produced. Anything malformed is a
:class:`~ringrift.errors.PoisonMessage` with the reason, and changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from ringrift.configs import ALL_CONFIGS
from ringrift.errors import PoisonMessage
from ringrift.events.envelope import Event, follow_up
from ringrift.events.gen.model.v1.model_pb2 import CandidateReady, EvaluationCompleted
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import ShardWritten
from ringrift.events.outbox import Output
from ringrift.storage.artifacts import store_for_uri
from ringrift.storage.errors import ArtifactError, ArtifactStoreUnavailable
from services.promoter import metrics
from services.promoter.lifecycle import UNDECIDED, Cause, State
from services.promoter.registry import (
    GATE_ACTOR,
    Decision,
    add_model,
    decision_outputs,
    find_model,
    later,
    lock_config,
    make_current,
    move,
    now,
)
from services.promoter.tables import ConfigState, Evaluation, Model

log = logging.getLogger(__name__)
CONFIG_KEYS = frozenset(config.key for config in ALL_CONFIGS)
NO_MODEL = frozenset({"", "uniform"})
"""What an evaluation names as its opponent before any model is current (the evaluator
plays the uniform evaluator, ``ringrift.evaluation.UNIFORM_ID``)."""
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

WeightsCheck = Callable[[str, str], None]
"""Checks that the artifact at a URI is there and hashes to the sha256 (raises if not)."""


def verify_weights(uri: str, sha256: str) -> None:
    """The artifact store's check of a model's weights.

    Raises:
        PoisonMessage: the weights are missing, corrupt, or the URI is not an artifact's.
        ArtifactStoreUnavailable: the object store did not answer (retried).
    """
    try:
        store_for_uri(uri).local_path(uri, sha256)
    except ArtifactStoreUnavailable:
        raise
    except ArtifactError as error:
        raise PoisonMessage(f"the weights of the candidate are unusable: {error}") from error


class Promoter:
    """The consumer handler of every topic the promoter reads."""

    def __init__(self, check_weights: WeightsCheck | None = verify_weights) -> None:
        self.check_weights = check_weights

    def __call__(self, event: Event[Message], session: Session) -> list[Output]:
        payload = event.payload
        if isinstance(payload, CandidateReady):
            return register_candidate(event, session, self.check_weights)  # type: ignore[arg-type]
        if isinstance(payload, EvaluationCompleted):
            return evaluation_completed(event, session)  # type: ignore[arg-type]
        if isinstance(payload, ShardWritten):
            return shard_written(event, session)  # type: ignore[arg-type]
        raise PoisonMessage(f"the promoter does not handle {event.event_type} (event "
                            f"{event.event_id})")


def register_candidate(event: Event[CandidateReady], session: Session,
                       check_weights: WeightsCheck | None = verify_weights) -> list[Output]:
    """Register the candidate; decide any evaluation of it that arrived first.

    Raises:
        PoisonMessage: a bad config or id, weights that fail their check, or a model id
            already registered with other weights or another config.
    """
    candidate = event.payload
    what = f"candidate {candidate.model_id!r}"
    config_key = checked_config(event, candidate.config_key, what)
    checked_id(candidate.model_id, "model_id", what)
    if candidate.parent_model_id:
        checked_id(candidate.parent_model_id, "parent_model_id", what)
    weights = candidate.weights
    if not weights.uri or not _SHA256.fullmatch(weights.sha256):
        raise PoisonMessage(f"{what} has no usable weights reference (uri {weights.uri!r}, "
                            f"sha256 {weights.sha256!r}: 64 lower-case hex digits expected)")
    if check_weights is not None:
        check_weights(weights.uri, weights.sha256)  # before the lock: it reads the store
    config = lock_config(session, config_key)
    known = find_model(session, candidate.model_id)
    if known is not None:
        if known.config_key != config_key or known.weights_sha256 != weights.sha256:
            raise PoisonMessage(f"{what} is registered already for {known.config_key} with "
                                f"weights {known.weights_sha256}; one id names one model")
        return []  # the same candidate published again: registered once
    registered = now()
    model = add_model(session, config, Model(
        model_id=candidate.model_id, config_key=config_key,
        parent_model_id=candidate.parent_model_id, architecture=candidate.architecture,
        encoder_version=candidate.encoder_version, train_step=candidate.train_step,
        samples_seen=candidate.samples_seen, losses=dict(candidate.losses),
        shard_ids=list(candidate.shard_ids), weights_uri=weights.uri,
        weights_sha256=weights.sha256, weights_size=weights.size_bytes,
        trained_at=event.produced_at, registered_at=registered,
        candidate_event_id=event.event_id))
    config.latest_candidate_id = model.model_id
    config.last_candidate_at = later(config.last_candidate_at, event.produced_at)
    metrics.after_commit(session, lambda: metrics.CANDIDATES.labels(config_key).inc())
    metrics.stage_produced(session, config_key, "training", config.last_candidate_at)
    waiting = session.scalars(select(Evaluation).where(
        Evaluation.model_id == model.model_id, Evaluation.decision == "",
        Evaluation.completed_at.is_not(None)).order_by(Evaluation.completed_at)).all()
    outputs: list[Output] = []
    for evaluation in waiting:  # the first decides; any later one is recorded as ignored
        outputs += decide(session, config, model, evaluation, event)
    return outputs


def evaluation_completed(event: Event[EvaluationCompleted], session: Session) -> list[Output]:
    """Record the evaluation and decide on its model (or wait for the model to register).

    Raises:
        PoisonMessage: a bad config or id, no gate decision, or an evaluation id that
            names another model than before.
    """
    result = event.payload
    what = f"evaluation {result.evaluation_id!r}"
    config_key = checked_config(event, result.config_key, what)
    checked_id(result.evaluation_id, "evaluation_id", what)
    checked_id(result.model_id, "model_id", what)
    if not result.HasField("gate"):
        raise PoisonMessage(f"{what} has no gate decision; the promoter decides from it")
    config = lock_config(session, config_key)
    evaluation = session.get(Evaluation, result.evaluation_id, populate_existing=True)
    if evaluation is not None and evaluation.model_id != result.model_id:
        raise PoisonMessage(f"{what} is about model {result.model_id}, but the same id was "
                            f"about {evaluation.model_id} before")
    if evaluation is not None and evaluation.completed_at is not None:
        return []  # the same result again (a redelivery or a republished event): decided once
    if evaluation is None:
        evaluation = Evaluation(evaluation_id=result.evaluation_id, model_id=result.model_id,
                                config_key=config_key)
        session.add(evaluation)
    record_result(evaluation, result, event.produced_at)
    config.latest_evaluation_id = result.evaluation_id
    config.last_evaluation_at = later(config.last_evaluation_at, event.produced_at)
    metrics.stage_produced(session, config_key, "evaluation", config.last_evaluation_at)
    model = find_model(session, result.model_id)
    if model is None:
        evaluation.decision_reason = "waiting for the model's CandidateReady"
        metrics.after_commit(session, lambda: metrics.EVALUATIONS.labels(
            config_key, "waiting").inc())
        return []
    if model.config_key != config_key:
        raise PoisonMessage(f"{what} says model {model.model_id} is of {config_key}, but it "
                            f"was registered for {model.config_key}")
    return decide(session, config, model, evaluation, event)


def shard_written(event: Event[ShardWritten], session: Session) -> list[Output]:
    """Note when the export stage last produced for the shard's config."""
    config_key = checked_config(event, event.payload.config_key,
                                f"shard {event.payload.shard_id!r}")
    config = lock_config(session, config_key)
    config.last_shard_at = later(config.last_shard_at, event.produced_at)
    metrics.stage_produced(session, config_key, "export", config.last_shard_at)
    return []


def decide(session: Session, config: ConfigState, model: Model, evaluation: Evaluation,
           cause: Event[Message]) -> list[Output]:
    """The gate's decision on ``model`` from ``evaluation``, applied to the registry."""
    if State(model.state) not in UNDECIDED:
        return _settle(session, evaluation, "ignored", f"model {model.model_id} is "
                       f"{model.state} already; an evaluation decides an undecided model once")
    if evaluation.elo is not None:
        model.rating, model.rating_lower = evaluation.elo, evaluation.elo_lower
        model.rating_upper, model.rating_confidence = evaluation.elo_upper, evaluation.elo_confidence
    decision = Decision(config.config_key, config.revision)
    gate = {"actor": GATE_ACTOR, "evaluation_id": evaluation.evaluation_id}
    if model.state == State.CANDIDATE:
        move(session, decision, model, State.EVALUATING, Cause.EVALUATION,
             reason=f"evaluation {evaluation.evaluation_id} (its start was not seen)", **gate)
    current = config.current_model_id or ""
    opponent = "" if evaluation.opponent_model_id in NO_MODEL else evaluation.opponent_model_id
    summary = evaluation.summary or f"{evaluation.method} statistic {evaluation.statistic}"
    if evaluation.passed and opponent == current:
        promotion = make_current(session, config, model, Cause.GATE,
                                 reason=f"gate: passed; {summary}", **gate)
        promotion.changes[:0] = decision.changes
        decision, outcome = promotion, "promoted"
    else:
        if evaluation.passed:
            reason = (f"gate: passed against {opponent or 'no model'}, but "
                      f"{current or 'no model'} is current now; a stale evaluation never "
                      "promotes")
        else:
            reason = f"gate: failed; {summary}"
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
    evaluation.opponent_model_id = gate_opponent(result)
    evaluation.passed = gate.passed
    evaluation.method, evaluation.statistic = gate.method, gate.statistic
    evaluation.summary, evaluation.games_played = gate.summary, result.games_played
    if result.HasField("elo"):
        evaluation.elo, evaluation.elo_lower = result.elo.value, result.elo.lower
        evaluation.elo_upper, evaluation.elo_confidence = result.elo.upper, result.elo.confidence


def gate_opponent(result: EvaluationCompleted) -> str:
    """The model the gate played against: ``gate.opponent_model_id`` where the schema has
    it, else the first per-opponent result (the evaluator lists the gate's first)."""
    gate = result.gate
    if "opponent_model_id" in gate.DESCRIPTOR.fields_by_name:
        named = str(gate.opponent_model_id)
        if named:
            return named
    return result.results[0].opponent_model_id if result.results else ""


def checked_config(event: Event[Message], config_key: str, what: str) -> str:
    """``config_key`` after checking it is a registry config and the envelope's.

    Raises:
        PoisonMessage: it is not, or the envelope names another config.
    """
    if config_key not in CONFIG_KEYS:
        raise PoisonMessage(f"{what} has config {config_key!r}, which is not one of "
                            f"{', '.join(sorted(CONFIG_KEYS))}")
    if event.config_key != config_key:
        raise PoisonMessage(f"{what}: the envelope's config {event.config_key!r} differs from "
                            f"the payload's {config_key!r}")
    return config_key


def checked_id(value: str, field: str, what: str) -> str:
    """``value`` after checking it is a usable id (1-64 characters, no spaces).

    Raises:
        PoisonMessage: it is empty or malformed.
    """
    if not _ID.fullmatch(value):
        raise PoisonMessage(f"{what} has {field} {value!r}: expected 1-64 letters, digits, "
                            "'.', '_', ':' or '-'")
    return value


def _settle(session: Session, evaluation: Evaluation, decision: str,
            reason: str) -> list[Output]:
    evaluation.decision, evaluation.decision_reason = decision, reason
    metrics.after_commit(session, lambda: metrics.EVALUATIONS.labels(
        evaluation.config_key, decision).inc())
    return []
