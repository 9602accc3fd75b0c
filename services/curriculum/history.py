"""A config's rating over time, derived from its log of evaluations and promotions.

The rating of a config at a moment is the rating of the model that was current then
(the latest promotion before it; before the first, the uniform player) in the refit of
its match log that the evaluator published with each evaluation. A sample is taken at
each evaluation (the model current at that time, in that evaluation's ratings) and at
each promotion (the promoted model, in the latest evaluation before it that rates it:
the one that justified it). Everything is computed from the log as it is, so the order
in which evaluations and promotions arrived does not matter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ringrift.evaluation import UNIFORM_ID

Ratings = dict[str, tuple[float, float]]
"""Player id -> (elo, stderr)."""


@dataclass(frozen=True)
class Evaluated:
    at: datetime
    ratings: Ratings

    @classmethod
    def of(cls, at: datetime, ratings_json: str) -> Evaluated:
        return cls(at, {player: (float(elo), float(stderr))
                        for player, (elo, stderr) in json.loads(ratings_json).items()})


@dataclass(frozen=True)
class Promoted:
    at: datetime
    model_id: str


@dataclass(frozen=True)
class Sample:
    at: datetime
    model_id: str
    elo: float
    stderr: float


def current_model(promotions: Sequence[Promoted], at: datetime) -> str:
    """The model current just before ``at`` ("" before the first promotion); promotions in
    time order. A promotion at ``at`` itself comes after an evaluation then: promotions
    follow from evaluations."""
    current = ""
    for promotion in promotions:
        if promotion.at >= at:
            break
        current = promotion.model_id
    return current


def samples(evaluations: Sequence[Evaluated], promotions: Sequence[Promoted]) -> list[Sample]:
    """The rating samples of one config, in time order (both inputs in time order)."""
    found = []
    for evaluation in evaluations:
        model = current_model(promotions, evaluation.at) or UNIFORM_ID
        if model in evaluation.ratings:
            found.append(Sample(evaluation.at, model, *evaluation.ratings[model]))
    for promotion in promotions:
        before = [e for e in evaluations if e.at <= promotion.at
                  and promotion.model_id in e.ratings]
        if before:
            found.append(Sample(promotion.at, promotion.model_id,
                                *before[-1].ratings[promotion.model_id]))
    return sorted(found, key=lambda sample: sample.at)  # stable: evaluations first at a tie
