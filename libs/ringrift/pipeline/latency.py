"""How long each stage of a run took to react and to deliver, from its topics and metrics.

Two figures per stage (``make bench-pipeline`` prints them):

* **trigger latency**: the input event produced -> the stage starts work on it. Where the
  topics show the start it is exact: the evaluator's ``EvaluationStarted`` (candidate ->
  start), self-play's first game started with a new model (game end minus its duration).
  Where they do not, it comes from the stage's own histogram, scraped from ``/metrics``:
  the exporter's handling lag (a game is stored in its handler), the trainer's
  ``trigger_latency`` (shard -> training run starts), the promoter's handling lag (it
  decides in its handler); quantiles of a histogram are interpolated within its buckets,
  as Prometheus' ``histogram_quantile`` does.
* **stage latency**: the input produced -> the output produced, exact from the topics:
  the newest game of a shard -> the shard; the shard that started a run (the candidate's
  causation id) -> the candidate; the candidate -> its evaluation; the evaluation -> the
  decision; a model made current -> the first game played with it.

Beside them: from a game's end to the first candidate trained on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ringrift.events.gen.model.v1 import model_pb2
from ringrift.pipeline.history import Recorded
from ringrift.pipeline.probe import Metrics
from ringrift.pipeline.trace import Topics, shard_windows

Lifecycle = model_pb2.ModelLifecycleChanged


@dataclass(frozen=True)
class Latency:
    """Seconds observed for one figure; ``p50``/``p99`` of them (None when empty)."""

    stage: str
    figure: str
    seconds: tuple[float, ...]
    source: str
    """Where the figure comes from: ``topics`` or the histogram's name."""
    estimated: tuple[float | None, float | None, int] | None = None
    """For a histogram: its p50, p99 and count (no single values exist)."""

    @property
    def count(self) -> int:
        return self.estimated[2] if self.estimated else len(self.seconds)

    def quantile(self, q: float) -> float | None:
        if self.estimated:
            return self.estimated[0] if q == 0.5 else self.estimated[1]
        return percentile(self.seconds, q)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile by linear interpolation between the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def histogram_quantile(metrics: Metrics, name: str, q: float, **labels: str) -> float | None:
    """Prometheus' ``histogram_quantile`` over the ``<name>_bucket`` samples (summed over
    the other labels); None when the histogram is empty."""
    buckets: dict[float, float] = {}
    for sample in metrics.select(f"{name}_bucket", **labels):
        bound = float(sample.labels["le"])
        buckets[bound] = buckets.get(bound, 0.0) + sample.value
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] == 0:
        return None
    rank, below, lower = q * buckets[bounds[-1]], 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower
            inside = count - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 0.0)
        below, lower = count, bound
    return lower


def from_histogram(stage: str, figure: str, metrics: Metrics, name: str,
                   **labels: str) -> Latency:
    count = metrics.total(f"{name}_count", **labels)
    return Latency(stage, figure, (), name, (histogram_quantile(metrics, name, 0.5, **labels),
                                             histogram_quantile(metrics, name, 0.99, **labels),
                                             int(count or 0)))


def topic_latencies(topics: Topics) -> list[Latency]:
    """Every figure the topics give exactly (see the module docstring)."""
    at = {record.event.event_id: record.event.produced_at for record in topics.shards}
    game_at = {r.event.payload.game_id: r.event.produced_at for r in topics.games}
    windows = shard_windows(topics.games, topics.shards)
    candidate_at = {r.event.payload.model_id: r.event.produced_at for r in topics.candidates}
    completed_at = {r.event.payload.evaluation_id: r.event.produced_at
                    for r in topics.completed}
    shard_stage = [_seconds(max(game_at[game] for game in windows[r.event.payload.shard_id]),
                            r.event.produced_at)
                   for r in topics.shards if windows.get(r.event.payload.shard_id)]
    trained = [_seconds(at[r.event.causation_id], r.event.produced_at)
               for r in topics.candidates if r.event.causation_id in at]
    started = [_seconds(candidate_at[r.event.payload.model_id], r.event.produced_at)
               for r in topics.started if r.event.payload.model_id in candidate_at]
    evaluated = [_seconds(candidate_at[r.event.payload.model_id], r.event.produced_at)
                 for r in topics.completed if r.event.payload.model_id in candidate_at]
    decided = [_seconds(completed_at[r.event.payload.evaluation_id], r.event.produced_at)
               for r in topics.lifecycle if r.event.payload.transition in
               (Lifecycle.PROMOTED, Lifecycle.REJECTED)
               and r.event.payload.evaluation_id in completed_at]
    first_start, first_game = _selfplay(topics)
    return [
        Latency("exporter", "stage: newest game -> shard", tuple(shard_stage), "topics"),
        Latency("trainer", "stage: shard -> candidate", tuple(trained), "topics"),
        Latency("evaluator", "trigger: candidate -> evaluation started", tuple(started),
                "topics"),
        Latency("evaluator", "stage: candidate -> evaluation", tuple(evaluated), "topics"),
        Latency("promoter", "stage: evaluation -> decision", tuple(decided), "topics"),
        Latency("selfplay", "trigger: model current -> first game started", first_start,
                "topics"),
        Latency("selfplay", "stage: model current -> first game with it", first_game,
                "topics"),
        Latency("pipeline", "game end -> first candidate trained on it",
                tuple(_game_to_candidate(topics, windows)), "topics"),
    ]


def _selfplay(topics: Topics) -> tuple[tuple[float, ...], tuple[float, ...]]:
    starts, ends = [], []
    for record in topics.current:
        model, since = record.event.payload.model_id, record.event.produced_at
        games = [game for game in topics.games if model in game.event.payload.seat_model_ids
                 and game.event.produced_at >= since]
        if games:
            starts.append(min(_seconds(since, _started(game)) for game in games))
            ends.append(min(_seconds(since, game.event.produced_at) for game in games))
    return tuple(starts), tuple(ends)


def _game_to_candidate(topics: Topics, windows: dict[str, list[str]]) -> list[float]:
    first_use: dict[str, datetime] = {}
    for record in topics.candidates:
        for shard_id in record.event.payload.shard_ids:
            first_use.setdefault(shard_id, record.event.produced_at)
    seconds = []
    game_at = {r.event.payload.game_id: r.event.produced_at for r in topics.games}
    for shard_id, games in windows.items():
        if shard_id in first_use:
            seconds += [_seconds(game_at[game], first_use[shard_id]) for game in games]
    return seconds


def _started(record: Recorded) -> datetime:
    duration = record.event.payload.duration
    return record.event.produced_at - timedelta(seconds=duration.seconds,
                                                microseconds=duration.nanos // 1000)


def _seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()
