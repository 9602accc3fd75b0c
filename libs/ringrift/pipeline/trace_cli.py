"""Reading the topics for ``ringrift events trace ID`` and printing the chain.

The small topics (shards, candidates, evaluations, lifecycle, current models) are read
whole; the games topic, the big one, only where needed: from the time a model became
current (to find the first game that played it), or whole when the ID is a game's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from ringrift.events.producer import partition_for_key
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import (
    CANDIDATE_READY,
    EVALUATION_COMPLETED,
    EVALUATION_STARTED,
    GAME_COMPLETED,
    MODEL_CURRENT,
    MODEL_LIFECYCLE,
    SHARD_WRITTEN,
    TopicSpec,
)
from ringrift.pipeline.history import History, Recorded, read_history
from ringrift.pipeline.trace import Step, Topics, build_trace

Naming = Callable[[TopicSpec], TopicSpec]
SMALL = (SHARD_WRITTEN, CANDIDATE_READY, EVALUATION_STARTED, EVALUATION_COMPLETED,
         MODEL_LIFECYCLE, MODEL_CURRENT)


def trace(settings: KafkaSettings, target: str, namespace: str = "") -> list[Step]:
    """The chain of ``target`` read from the broker of ``settings``."""
    def named(spec: TopicSpec) -> TopicSpec:
        return replace(spec, name=f"{namespace}.{spec.name}") if namespace else spec

    small = read_history(settings, [named(spec) for spec in SMALL])
    games_topic = named(GAME_COMPLETED)
    steps = build_trace(target, _topics(small, [], named))
    if steps:
        since = _current_since(steps)
        if since is None:
            return steps
        config = _config_of(small, target, named)
        partition = partition_for_key(games_topic, config) if config else None
        games = read_history(settings, [games_topic], since=since, partitions=None
                             if partition is None else {games_topic.name: [partition]})
        return build_trace(target, _topics(small, games.of(games_topic), named))
    games = read_history(settings, [games_topic])
    return build_trace(target, _topics(small, games.of(games_topic), named))


def format_steps(target: str, steps: list[Step]) -> list[str]:
    """The printed trace: one line per step, produced-at time and lag from the one before."""
    if not steps:
        return [f"no event on the pipeline's topics names {target!r} (an event id, "
                "correlation id, game id, shard id, model id or evaluation id)"]
    lines = [f"trace of {target} (times are produced-at, UTC; lag = since the line above):"]
    previous: datetime | None = None
    for step in steps:
        lag = "" if previous is None else _lag((step.at - previous).total_seconds())
        lines.append(f"  {step.at.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]} {lag:>11}  "
                     f"{step.stage:20} {step.id}\n{'':38}{step.detail}")
        previous = step.at
    return lines


def as_json(steps: list[Step]) -> str:
    return json.dumps([{"stage": step.stage, "at": step.at.isoformat(), "id": step.id,
                        "detail": step.detail, "event_id": step.event_id} for step in steps],
                      indent=2)


def _topics(small: History, games: list[Recorded], named: Naming) -> Topics:
    return Topics(games=games, shards=small.of(named(SHARD_WRITTEN)),
                  candidates=small.of(named(CANDIDATE_READY)),
                  started=small.of(named(EVALUATION_STARTED)),
                  completed=small.of(named(EVALUATION_COMPLETED)),
                  lifecycle=small.of(named(MODEL_LIFECYCLE)),
                  current=small.of(named(MODEL_CURRENT)))


def _current_since(steps: list[Step]) -> datetime | None:
    return next((step.at for step in steps if step.stage == "current model"), None)


def _config_of(small: History, target: str, named: Naming) -> str | None:
    for spec in SMALL:
        for record in small.of(named(spec)):
            event = record.event
            if target in (event.event_id, event.correlation_id) or target in (
                    getattr(event.payload, name, None) for name in
                    ("shard_id", "model_id", "evaluation_id")):
                return event.config_key
    return None


def _lag(seconds: float) -> str:
    if abs(seconds) < 60:
        return f"+{seconds:.3f} s" if seconds >= 0 else f"{seconds:.3f} s"
    return f"+{seconds / 60:.1f} min"
