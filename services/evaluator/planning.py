"""Choosing an evaluation: its opponent, its number, its baselines, and everything fixed for it.

An evaluation is chosen when its job first runs (not when the candidate arrives): the
partition of a config waits while the previous evaluation plays, and the promoter acts on
that evaluation's result after it is published, so a candidate that waited behind a passed
gate would otherwise meet the model that was current *before* the promotion, and its own
pass would be stale. The job therefore waits until the promoter's decision on the last
passed evaluation of the config is seen (a lifecycle event naming it, or its model
current), for at most ``decision_wait_s``.

The chosen plan (candidate, opponent and baselines with their weights, gate settings,
simulations, move cap, sizes) is stored in the evaluation's row, so a resumed match plays
the same schedule under the same rules whatever the service's settings are by then. One
evaluation per (candidate, opponent): its id is derived from the pair, so a repeated
announcement of a candidate is not played again.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringrift.evaluation import UNIFORM_ID, baseline_ladder, baselines_due
from ringrift.events.gen.model.v1.model_pb2 import CurrentModel
from ringrift.storage.database import as_utc
from services.evaluator.settings import EvaluatorSettings
from services.evaluator.tables import Candidate, Evaluation, FirstPromotion

log = logging.getLogger(__name__)
QUEUED, PLAYING, DONE, FAILED = "queued", "playing", "done", "failed"


def evaluation_id(config_key: str, model_id: str, opponent_id: str) -> str:
    """The id of the evaluation of ``model_id`` against ``opponent_id`` (the same on re-runs)."""
    digest = hashlib.sha256(f"{config_key}/{model_id}/{opponent_id}".encode()).hexdigest()
    return f"ev-{digest[:24]}"


def match_seed(evaluation: str, opponent_id: str) -> int:
    """The schedule seed of one match of an evaluation (non-negative, 60 bits)."""
    return int(hashlib.sha256(f"{evaluation}/{opponent_id}".encode()).hexdigest()[:15], 16)


def model_spec(model_id: str, uri: str = "", sha256: str = "") -> dict[str, str]:
    """A player of a plan: a model id with its weights, or a player id alone."""
    return {"model_id": model_id, "uri": uri, "sha256": sha256}


def pending_decision(session: Session, config_key: str, current: CurrentModel | None,
                     wait_s: float) -> str | None:
    """Why the next evaluation of a config must wait for the promoter, or None.

    It waits while the config's latest passed evaluation, finished less than ``wait_s``
    ago, has no decision seen and its model is not current.
    """
    last = session.scalars(select(Evaluation).where(
        Evaluation.config_key == config_key, Evaluation.state == DONE)
        .order_by(Evaluation.number.desc()).limit(1)).first()
    if last is None or not last.passed or last.decided_at is not None:
        return None
    if current is not None and current.model_id == last.model_id:
        return None
    finished = as_utc(last.finished_at) if last.finished_at else datetime.now(UTC)
    if datetime.now(UTC) - finished > timedelta(seconds=wait_s):
        return None
    return (f"the gate passed {last.model_id} ({last.evaluation_id}); waiting up to "
            f"{wait_s:g} s for the promoter's decision before choosing the next opponent")


def choose(session: Session, params: dict[str, Any], settings: EvaluatorSettings,
           current: CurrentModel | None) -> Evaluation:
    """The evaluation of the job's candidate against the current model: the existing row of
    that pair, or a new one (state ``queued``) with its plan."""
    config, model_id = params["config_key"], params["model_id"]
    opponent = (model_spec(current.model_id, current.weights.uri, current.weights.sha256)
                if current is not None and current.model_id else model_spec(UNIFORM_ID))
    evaluation = evaluation_id(config, model_id, opponent["model_id"])
    row = session.get(Evaluation, evaluation)
    if row is not None:
        return row
    number = 1 + int(session.scalar(select(func.count()).select_from(Evaluation).where(
        Evaluation.config_key == config)) or 0)
    baselines = (ladder(session, config, current, skip={model_id, opponent["model_id"]})
                 if baselines_due(number, settings.baselines_every) else [])
    plan = {"candidate": model_spec(model_id, params["uri"], params["sha256"]),
            "opponent": opponent, "baselines": baselines, "gate": asdict(settings.gate()),
            "simulations": settings.simulations, "max_moves": settings.max_moves,
            "baseline_games": settings.baseline_games}
    row = Evaluation(evaluation_id=evaluation, config_key=config, number=number,
                     model_id=model_id, opponent_model_id=opponent["model_id"],
                     baselines=bool(baselines), state=QUEUED, created_at=datetime.now(UTC),
                     games=0, plan=plan)
    session.add(row)
    log.info("evaluation %s: candidate %s (#%d of %s) against %s%s", evaluation, model_id,
             number, config, opponent["model_id"],
             f", baselines {', '.join(b['model_id'] for b in baselines)}" if baselines else "")
    return row


def ladder(session: Session, config: str, current: CurrentModel | None,
           skip: set[str]) -> list[dict[str, str]]:
    """The baselines to play: random, heuristic, and the first promoted model when its
    weights are known; none that the candidate or its gate opponent already is."""
    first = session.get(FirstPromotion, config)
    players: list[dict[str, str]] = []
    for player_id in baseline_ladder(first.model_id if first else None):
        if player_id in skip:
            continue
        if first is None or player_id != first.model_id:
            players.append(model_spec(player_id))
            continue
        known = session.get(Candidate, player_id)
        if known is not None:
            players.append(model_spec(player_id, known.weights_uri, known.weights_sha256))
        elif current is not None and current.model_id == player_id:
            players.append(model_spec(player_id, current.weights.uri, current.weights.sha256))
        else:
            log.warning("first promoted model %s of %s: weights unknown (its CandidateReady "
                        "was never seen); the ladder goes without it", player_id, config)
    return players
