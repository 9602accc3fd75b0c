"""The curriculum's weight policy: the share of self-play games each enabled config gets.

``elo-velocity-age-v1``: a config earns more games when its rating rises fastest (its
network is learning: feed it) and when its model is oldest (no promotion for a long
time: it needs fresh data to get unstuck). Both terms are relative to the other
enabled configs, so the policy needs no scale of its own (an Elo per hour that is fast
on one cluster is slow on another)::

    score_i  = 1 + velocity_weight * max(v_i, 0) / max_j max(v_j, 0)
                 + age_weight      * age_i / max_j age_j
    weight_i = floor + (1 - n * floor) * score_i / sum_j score_j,   floor = floor_share / n

so every enabled config gets at least ``floor_share`` of an equal share (none starves),
equal inputs give equal weights, and the weights sum to 1. ``v`` is the rating change of
the config's current model per hour over the velocity window (first to last rating
sample in it); ``age`` the hours since its model was promoted (before the first
promotion: since the curriculum first heard of the config).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ringrift.events.gen.ops.v1.ops_pb2 import ConfigWeight

POLICY = "elo-velocity-age-v1"
MIN_VELOCITY_SPAN_H = 1 / 60
"""Rating samples closer together than a minute give no velocity (0)."""


@dataclass(frozen=True)
class PolicySettings:
    floor_share: float = 0.25
    velocity_weight: float = 1.0
    age_weight: float = 1.0


@dataclass(frozen=True)
class ConfigInputs:
    """What the policy knows of one enabled config."""

    config_key: str
    model_id: str = ""
    elo: float = 0.0
    elo_stderr: float = 0.0
    elo_velocity: float = 0.0
    hours_since_promotion: float = 0.0
    evaluations: int = 0


def velocity(samples: Sequence[tuple[datetime, float]]) -> float:
    """Elo per hour from the first to the last of ``samples`` (time order), else 0."""
    if len(samples) < 2:
        return 0.0
    (start, first), (end, last) = samples[0], samples[-1]
    hours = (end - start).total_seconds() / 3600
    return (last - first) / hours if hours >= MIN_VELOCITY_SPAN_H else 0.0


def scores(inputs: Sequence[ConfigInputs], settings: PolicySettings) -> list[float]:
    """Each config's score (1 plus its relative velocity and age terms)."""
    fastest = max((max(item.elo_velocity, 0.0) for item in inputs), default=0.0)
    oldest = max((item.hours_since_promotion for item in inputs), default=0.0)
    return [1.0 + (settings.velocity_weight * max(item.elo_velocity, 0.0) / fastest
                   if fastest > 0 else 0.0)
            + (settings.age_weight * item.hours_since_promotion / oldest if oldest > 0 else 0.0)
            for item in inputs]


def config_weights(inputs: Sequence[ConfigInputs], settings: PolicySettings
                   ) -> list[ConfigWeight]:
    """The weights of ``inputs`` (enabled configs), with the inputs behind each."""
    if not inputs:
        return []
    floor = settings.floor_share / len(inputs)
    found = scores(inputs, settings)
    total = sum(found)
    return [ConfigWeight(config_key=item.config_key,
                         weight=floor + (1 - floor * len(inputs)) * score / total,
                         elo=item.elo, elo_velocity=item.elo_velocity,
                         hours_since_promotion=item.hours_since_promotion,
                         model_id=item.model_id, elo_stderr=item.elo_stderr,
                         evaluations=item.evaluations, score=score)
            for item, score in zip(inputs, found, strict=True)]


def changed(old: Sequence[ConfigWeight], new: Sequence[ConfigWeight], min_change: float) -> bool:
    """Whether ``new`` is worth publishing over ``old``: other configs or models, or a
    weight that moved by more than ``min_change``."""
    before = {item.config_key: item for item in old}
    if set(before) != {item.config_key for item in new}:
        return True
    return any(abs(item.weight - before[item.config_key].weight) > min_change
               or item.model_id != before[item.config_key].model_id for item in new)
