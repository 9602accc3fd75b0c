"""What the topics say about the pipeline, per config: the status view's model.

:class:`PipelineState` is fed every event the tail reader sees (:meth:`PipelineState.apply`)
and every dead letter; it keeps, per config, the counts and the latest of each stage
(games, shards, the latest candidate, evaluations started and completed with the gate's
statistics, the ratings of the latest evaluation, the current model, curriculum weight),
the cluster's deferrals, and an event log of what a person wants to notice (promoted,
rejected, deferred, ...), each line with an id that ``ringrift events trace`` takes.
Pure bookkeeping: no Kafka, no clock, so it is tested by feeding it events.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ringrift.events.envelope import Event
from ringrift.events.gen.model.v1 import model_pb2
from ringrift.events.gen.ops.v1 import ops_pb2
from ringrift.events.gen.selfplay.v1 import selfplay_pb2
from ringrift.pipeline.tail import DeadLetterSeen

Lifecycle = model_pb2.ModelLifecycleChanged


@dataclass(frozen=True)
class LogEntry:
    """One line of the event log: when, what, for which config, and the id to trace."""

    at: datetime
    kind: str
    config: str
    text: str
    trace_id: str = ""


@dataclass(frozen=True)
class Gate:
    """The gate statistics of one completed evaluation."""

    evaluation_id: str
    model_id: str
    opponent: str
    verdict: str
    passed: bool
    llr: float
    llr_lower: float
    llr_upper: float
    games: int
    max_games: int
    score: tuple[float, float, float]
    elo: tuple[float, float, float]
    seconds: float
    at: datetime


@dataclass
class ConfigState:
    """The pipeline as the topics tell it, for one config."""

    key: str
    games_before: int = 0
    """Games published before the tail started (counted by offset, not read)."""
    games_seen: int = 0
    last_game_models: tuple[str, ...] = ()
    games_by_model: dict[str, int] = field(default_factory=dict)
    """Games seen by the tail per seat model (each model of a game counted once)."""
    shards: int = 0
    shard_samples: int = 0
    candidates: int = 0
    latest_candidate: str = ""
    evaluating: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    """Evaluations started and not completed: id -> (model, opponent, max games)."""
    latest_gate: Gate | None = None
    ratings: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    """Player id -> (Elo, lower, upper) from the latest evaluation (the whole match log)."""
    current_model: str = ""
    current_weights: str = ""
    """The artifact URI of the current model's weights (for ``ringrift match``)."""
    revision: int = 0
    promotions: int = 0
    rejections: int = 0
    weight: float | None = None

    @property
    def games(self) -> int:
        return self.games_before + self.games_seen


class PipelineState:
    """Per-config state and the event log; thread-safe (the tail writes, the view reads)."""

    def __init__(self, log_size: int = 200) -> None:
        self.lock = threading.RLock()
        self.configs: dict[str, ConfigState] = {}
        self.log: deque[LogEntry] = deque(maxlen=log_size)
        self.dead_letters: dict[str, int] = {}
        """Letters per original topic."""
        self.deferred: tuple[str, ...] = ()
        self.listeners: list[Callable[[LogEntry], None]] = []

    def config(self, key: str) -> ConfigState:
        with self.lock:
            return self.configs.setdefault(key, ConfigState(key))

    def note(self, entry: LogEntry) -> None:
        """Add a line to the event log (also the supervisor's lines) and tell listeners."""
        with self.lock:
            self.log.append(entry)
            listeners = list(self.listeners)
        for listener in listeners:
            listener(entry)

    # ---- events ----------------------------------------------------------------------

    def apply(self, event: Event[Any]) -> None:
        """Take one event of any registry topic into account."""
        payload = event.payload
        handler = _HANDLERS.get(type(payload))
        if handler is not None:
            with self.lock:
                handler(self, event)

    def apply_dead_letter(self, letter: DeadLetterSeen) -> None:
        original = letter.headers.get("dlq.original.topic", letter.dlq_topic)
        with self.lock:
            self.dead_letters[original] = self.dead_letters.get(original, 0) + 1
        reason = letter.headers.get("dlq.error.message", "")[:160]
        self.note(LogEntry(_at(letter.headers), "dead letter", "",
                           f"{original} [{letter.partition}] from "
                           f"{letter.headers.get('dlq.service', '?')}: "
                           f"{letter.headers.get('dlq.error.class', '?')}: {reason}",
                           letter.headers.get("dlq.event.id", "")))

    def _game(self, event: Event[selfplay_pb2.GameCompleted]) -> None:
        state = self.config(event.config_key)
        state.games_seen += 1
        state.last_game_models = tuple(event.payload.seat_model_ids)
        for model in set(state.last_game_models):
            state.games_by_model[model] = state.games_by_model.get(model, 0) + 1

    def _shard(self, event: Event[selfplay_pb2.ShardWritten]) -> None:
        shard, state = event.payload, self.config(event.config_key)
        state.shards += 1
        state.shard_samples += shard.num_samples
        self.note(LogEntry(event.produced_at, "shard", event.config_key,
                           f"shard {shard.shard_id}: {shard.num_samples} samples from "
                           f"{shard.num_games} games", shard.shard_id))

    def _candidate(self, event: Event[model_pb2.CandidateReady]) -> None:
        candidate, state = event.payload, self.config(event.config_key)
        state.candidates += 1
        state.latest_candidate = candidate.model_id
        losses = ", ".join(f"{name} {value:.3f}" for name, value in
                           sorted(candidate.losses.items()))
        self.note(LogEntry(event.produced_at, "candidate", event.config_key,
                           f"candidate {candidate.model_id} trained on "
                           f"{len(candidate.shard_ids)} shards ({losses})", candidate.model_id))

    def _started(self, event: Event[model_pb2.EvaluationStarted]) -> None:
        started, state = event.payload, self.config(event.config_key)
        state.evaluating[started.evaluation_id] = (started.model_id, started.opponent_model_id,
                                                   started.max_games)
        self.note(LogEntry(event.produced_at, "evaluating", event.config_key,
                           f"evaluating {started.model_id} against "
                           f"{started.opponent_model_id} (at most {started.max_games} games)",
                           started.model_id))

    def _completed(self, event: Event[model_pb2.EvaluationCompleted]) -> None:
        result, state = event.payload, self.config(event.config_key)
        state.evaluating.pop(result.evaluation_id, None)
        gate = result.gate
        state.latest_gate = Gate(
            result.evaluation_id, result.model_id, gate.opponent_model_id, gate.verdict,
            gate.passed, gate.statistic, gate.llr_lower, gate.llr_upper, gate.games,
            gate.max_games, _estimate(gate.score), _estimate(gate.elo), result.seconds,
            event.produced_at)
        state.ratings = {rating.player_id: _estimate(rating.elo) for rating in result.ratings}
        self.note(LogEntry(event.produced_at, "evaluated", event.config_key,
                           f"{result.model_id}: gate {gate.verdict or '?'} "
                           f"({gate.summary or _gate_line(state.latest_gate)})",
                           result.evaluation_id))

    def _lifecycle(self, event: Event[model_pb2.ModelLifecycleChanged]) -> None:
        change, state = event.payload, self.config(event.config_key)
        if change.transition == Lifecycle.PROMOTED:
            state.promotions += 1
            previous = change.previous_model_id or "uniform"
            self.note(LogEntry(event.produced_at, "promoted", event.config_key,
                               f"promoted {change.model_id} over {previous}: {change.reason}",
                               change.model_id))
        elif change.transition == Lifecycle.REJECTED:
            state.rejections += 1
            self.note(LogEntry(event.produced_at, "rejected", event.config_key,
                               f"rejected {change.model_id}: {change.reason}", change.model_id))
        elif change.transition == Lifecycle.ROLLED_BACK:
            self.note(LogEntry(event.produced_at, "rolled back", event.config_key,
                               f"rolled back {change.model_id} ({change.actor}): "
                               f"{change.reason}", change.model_id))

    def _current(self, event: Event[model_pb2.CurrentModel]) -> None:
        current, state = event.payload, self.config(event.config_key)
        if current.revision >= state.revision:
            state.current_model, state.revision = current.model_id, current.revision
            state.current_weights = current.weights.uri

    def _weights(self, event: Event[ops_pb2.CurriculumWeights]) -> None:
        for weight in event.payload.weights:
            self.config(weight.config_key).weight = weight.weight

    def _cluster(self, event: Event[ops_pb2.ClusterStatus]) -> None:
        deferred = tuple(sorted(event.payload.defer))
        if deferred == self.deferred:
            return
        added = [work for work in deferred if work not in self.deferred]
        cleared = [work for work in self.deferred if work not in deferred]
        self.deferred = deferred
        reasons = "; ".join(getattr(event.payload, "reasons", ())) or \
            f"pressure {ops_pb2.Pressure.Name(event.payload.overall)}"
        if added:
            self.note(LogEntry(event.produced_at, "deferred", "",
                               f"deferred {', '.join(added)}: {reasons}", event.event_id))
        if cleared:
            self.note(LogEntry(event.produced_at, "resumed", "",
                               f"no longer deferred: {', '.join(cleared)}", event.event_id))


_HANDLERS: dict[type, Callable[[PipelineState, Event[Any]], None]] = {
    selfplay_pb2.GameCompleted: PipelineState._game,
    selfplay_pb2.ShardWritten: PipelineState._shard,
    model_pb2.CandidateReady: PipelineState._candidate,
    model_pb2.EvaluationStarted: PipelineState._started,
    model_pb2.EvaluationCompleted: PipelineState._completed,
    model_pb2.ModelLifecycleChanged: PipelineState._lifecycle,
    model_pb2.CurrentModel: PipelineState._current,
    ops_pb2.CurriculumWeights: PipelineState._weights,
    ops_pb2.ClusterStatus: PipelineState._cluster,
}


def _estimate(estimate: Any) -> tuple[float, float, float]:
    return float(estimate.value), float(estimate.lower), float(estimate.upper)


def _gate_line(gate: Gate) -> str:
    return (f"LLR {gate.llr:+.2f} in [{gate.llr_lower:+.2f}, {gate.llr_upper:+.2f}] after "
            f"{gate.games} games, score {gate.score[0]:.3f}")


def _at(headers: dict[str, str]) -> datetime:
    from datetime import UTC

    try:
        return datetime.fromisoformat(headers["dlq.failed_at"])
    except (KeyError, ValueError):
        return datetime.now(UTC)
