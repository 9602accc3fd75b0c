"""The promoter's consumer handler: register candidates, hand evaluations to the gate.

No Kafka and no environment here: a decoded event and a database session in, outputs
(lifecycle and current-model events, for the outbox) out. ``CandidateReady`` registers a
model once (its weights checked in the artifact store first; the same id with other
weights or another config is poison) and applies any evaluation of it that arrived first;
``EvaluationStarted`` and ``EvaluationCompleted`` go to :mod:`services.promoter.gate`;
``ShardWritten`` only tells the pipeline status when the export stage last produced.
Anything malformed is a :class:`~ringrift.errors.PoisonMessage` with the reason, and
changes nothing.
"""

from __future__ import annotations

from google.protobuf.message import Message
from sqlalchemy.orm import Session

from ringrift.errors import PoisonMessage
from ringrift.events.envelope import Event
from ringrift.events.gen.model.v1.model_pb2 import (
    CandidateReady,
    EvaluationCompleted,
    EvaluationStarted,
)
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import ShardWritten
from ringrift.events.outbox import Output
from services.promoter import gate, metrics
from services.promoter.inputs import (
    SHA256,
    WeightsCheck,
    checked_config,
    checked_id,
    verify_weights,
)
from services.promoter.registry import add_model, find_model, later, lock_config, now
from services.promoter.tables import Model


class Promoter:
    """The consumer handler of every topic the promoter reads."""

    def __init__(self, check_weights: WeightsCheck | None = verify_weights) -> None:
        self.check_weights = check_weights

    def __call__(self, event: Event[Message], session: Session) -> list[Output]:
        payload = event.payload
        if isinstance(payload, CandidateReady):
            return register_candidate(event, session, self.check_weights)  # type: ignore[arg-type]
        if isinstance(payload, EvaluationStarted):
            return gate.evaluation_started(event, session)  # type: ignore[arg-type]
        if isinstance(payload, EvaluationCompleted):
            return gate.evaluation_completed(event, session)  # type: ignore[arg-type]
        if isinstance(payload, ShardWritten):
            return shard_written(event, session)  # type: ignore[arg-type]
        raise PoisonMessage(f"the promoter does not handle {event.event_type} (event "
                            f"{event.event_id})")


def register_candidate(event: Event[CandidateReady], session: Session,
                       check_weights: WeightsCheck | None = verify_weights) -> list[Output]:
    """Register the candidate; apply any evaluation of it that arrived first.

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
    if not weights.uri or not SHA256.fullmatch(weights.sha256):
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
    model = add_model(session, config, Model(
        model_id=candidate.model_id, config_key=config_key,
        parent_model_id=candidate.parent_model_id, architecture=candidate.architecture,
        encoder_version=candidate.encoder_version, train_step=candidate.train_step,
        samples_seen=candidate.samples_seen, losses=dict(candidate.losses),
        shard_ids=list(candidate.shard_ids), weights_uri=weights.uri,
        weights_sha256=weights.sha256, weights_size=weights.size_bytes,
        trained_at=event.produced_at, registered_at=now(),
        candidate_event_id=event.event_id))
    config.latest_candidate_id = model.model_id
    config.last_candidate_at = later(config.last_candidate_at, event.produced_at)
    metrics.after_commit(session, lambda: metrics.CANDIDATES.labels(config_key).inc())
    metrics.stage_produced(session, config_key, "training", config.last_candidate_at)
    return gate.catch_up(session, config, model, event)


def shard_written(event: Event[ShardWritten], session: Session) -> list[Output]:
    """Note when the export stage last produced for the shard's config."""
    config_key = checked_config(event, event.payload.config_key,
                                f"shard {event.payload.shard_id!r}")
    config = lock_config(session, config_key)
    config.last_shard_at = later(config.last_shard_at, event.produced_at)
    metrics.stage_produced(session, config_key, "export", config.last_shard_at)
    return []
