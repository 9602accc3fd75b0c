"""Events and queries for the promoter's tests: candidates, evaluation results, the registry.

A candidate's weights are real artifacts in a real store (any bytes: the promoter checks
their sha256, it never loads them), so registration runs the same check as in service.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Engine, select

from ringrift.events.envelope import Event, new_event
from ringrift.events.gen.common.v1.common_pb2 import ArtifactRef, Estimate
from ringrift.events.gen.model.v1.model_pb2 import (
    CandidateReady,
    EvaluationCompleted,
    EvaluationStarted,
    GateDecision,
    OpponentResult,
    PlayerRating,
)
from ringrift.storage.artifacts import ArtifactStore
from ringrift.storage.database import session_scope
from services.promoter.tables import ConfigState, Model, Transition

CONFIG = "square8_2p"


def model_id(name: str) -> str:
    """A model id in the registry's syntax (``rr-`` + 24 hex digits), from a short name."""
    return "rr-" + hashlib.sha256(name.encode()).hexdigest()[:24]


def candidate(store: ArtifactStore | None, name: str, *, parent: str = "",
              config: str = CONFIG, weights: bytes | None = None,
              envelope_config: str | None = None) -> Event[CandidateReady]:
    """The CandidateReady of model ``name`` (weights stored in ``store`` when given)."""
    data = weights if weights is not None else f"weights of {name}".encode()
    if store is not None:
        ref = store.put_bytes(data)
        uri, sha256, size = ref.uri, ref.sha256, ref.size
    else:
        sha256 = hashlib.sha256(data).hexdigest()
        uri, size = f"file:///nowhere/sha256/{sha256[:2]}/{sha256}", len(data)
    payload = CandidateReady(
        model_id=model_id(name), config_key=config,
        weights=ArtifactRef(uri=uri, sha256=sha256, size_bytes=size),
        parent_model_id=model_id(parent) if parent else "", architecture="resnet-tiny",
        encoder_version=2, train_step=100, samples_seen=5000,
        losses={"policy": 1.5, "value": 0.4}, shard_ids=["s1", "s2"])
    return new_event(payload, config_key=envelope_config or config, producer="trainer")


def _player(name: str) -> str:
    return name if name in ("", "uniform", "random", "heuristic") else model_id(name)


def evaluation(evaluation_id: str, name: str, *, passed: bool, opponent: str = "uniform",
               config: str = CONFIG, elo: float = 50.0,
               ratings: dict[str, float] | None = None) -> Event[EvaluationCompleted]:
    """The EvaluationCompleted of model ``name``, gate played against ``opponent`` (a
    model name, or ``uniform`` before the first promotion); ``ratings`` by player name
    (the match log's, the candidate's own from ``elo``)."""
    payload = EvaluationCompleted(
        evaluation_id=evaluation_id, model_id=model_id(name), config_key=config,
        results=[OpponentResult(opponent_model_id=_player(opponent), wins=20, draws=4,
                                losses=8, role="gate")],
        elo=Estimate(value=elo, lower=elo - 30, upper=elo + 30, confidence=0.95),
        gate=GateDecision(passed=passed, method="sprt", statistic=3.1 if passed else -3.1,
                          verdict="pass" if passed else "fail",
                          summary="LLR 3.10 in [-2.25, 2.89] after 64 games",
                          opponent_model_id=_player(opponent)),
        games_played=64,
        ratings=[PlayerRating(player_id=_player(player), stderr=10.0, games=64, elo=Estimate(
            value=value, lower=value - 20, upper=value + 20, confidence=0.95))
            for player, value in (ratings or {}).items()])
    return new_event(payload, config_key=config, producer="evaluator")


def started(evaluation_id: str, name: str, *, opponent: str = "uniform",
            config: str = CONFIG) -> Event[EvaluationStarted]:
    """The EvaluationStarted of model ``name`` (gate against ``opponent``)."""
    payload = EvaluationStarted(evaluation_id=evaluation_id, model_id=model_id(name),
                                config_key=config, opponent_model_id=_player(opponent),
                                max_games=400)
    return new_event(payload, config_key=config, producer="evaluator")


def states(engine: Engine, config: str = CONFIG) -> dict[str, str]:
    """Model id -> state, for one config."""
    with session_scope(engine, read_only=True) as session:
        rows = session.execute(select(Model.model_id, Model.state)
                               .where(Model.config_key == config)).all()
        return dict(rows)


def current(engine: Engine, config: str = CONFIG) -> tuple[str | None, int]:
    """The config's current model id and revision."""
    with session_scope(engine, read_only=True) as session:
        row = session.get(ConfigState, config)
        return (row.current_model_id, row.revision) if row else (None, 0)


def history(engine: Engine, name: str) -> list[tuple[str, str, str, str]]:
    """(from, to, cause, actor) of each change of model ``name``, in order."""
    with session_scope(engine, read_only=True) as session:
        rows = session.scalars(select(Transition).where(Transition.model_id == model_id(name))
                               .order_by(Transition.id))
        return [(row.from_state, row.to_state, row.cause, row.actor) for row in rows]
