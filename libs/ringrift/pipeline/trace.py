"""``ringrift events trace ID``: the chain of events that followed a game, shard or model.

The stages link by the ids in their payloads: a game is in the shard whose window
(``first_game_id`` .. ``last_game_id``, in the exporter's arrival order, which is the
order of the config's game partition) holds it; a shard is in the training window of
the candidates that list it in ``shard_ids``; a candidate is evaluated
(``EvaluationStarted``, ``EvaluationCompleted`` with its ``model_id``), decided
(``ModelLifecycleChanged``), made current (``CurrentModel``) and then played by
self-play (the first game that names it). An ID may be any of those ids, an event id or
a correlation id. :func:`build_trace` follows the links forward from it over a
:class:`~ringrift.pipeline.history.History` and returns the steps with their produced-at
times; the lag between two stages is the difference of those times.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ringrift.events.gen.model.v1 import model_pb2
from ringrift.pipeline.history import Recorded

Lifecycle = model_pb2.ModelLifecycleChanged


@dataclass(frozen=True)
class Step:
    """One event of a trace."""

    stage: str
    at: datetime
    id: str
    detail: str
    event_id: str


@dataclass(frozen=True)
class Topics:
    """The recorded events of each stage (as read by :func:`read_history`)."""

    games: Sequence[Recorded]
    shards: Sequence[Recorded]
    candidates: Sequence[Recorded]
    started: Sequence[Recorded]
    completed: Sequence[Recorded]
    lifecycle: Sequence[Recorded]
    current: Sequence[Recorded]


def shard_windows(games: Iterable[Recorded], shards: Iterable[Recorded]
                  ) -> dict[str, list[str]]:
    """The games of each self-play shard: its window in the order of the config's game
    partition (a game published twice counts once, where it first appeared).

    Args:
        games: one config's ``GameCompleted`` records, in partition order.
        shards: that config's ``ShardWritten`` records.
    """
    order: list[str] = []
    position: dict[str, int] = {}
    for record in games:
        game_id = record.event.payload.game_id
        if game_id not in position:
            position[game_id] = len(order)
            order.append(game_id)
    windows = {}
    for record in shards:
        shard = record.event.payload
        first, last = position.get(shard.first_game_id), position.get(shard.last_game_id)
        if first is not None and last is not None and first <= last:
            windows[shard.shard_id] = order[first:last + 1]
    return windows


def build_trace(target: str, topics: Topics) -> list[Step]:
    """The steps that followed ``target``; empty when no event names it."""
    for record in topics.shards:
        if target in _ids(record) or target == record.event.payload.shard_id:
            return _from_shard(record, topics)
    for record in topics.candidates:
        if target in _ids(record) or target == record.event.payload.model_id:
            return _cause(record, topics) + _from_candidate(record.event.payload.model_id,
                                                            topics)
    for record in (*topics.started, *topics.completed, *topics.lifecycle, *topics.current):
        payload = record.event.payload
        if target in _ids(record) or target in (getattr(payload, "evaluation_id", None),
                                                getattr(payload, "model_id", None)):
            return _from_candidate(payload.model_id, topics)
    for record in topics.games:
        if target in _ids(record) or target == record.event.payload.game_id:
            return _from_game(record, topics)
    return []


def _ids(record: Recorded) -> tuple[str, str]:
    return record.event.event_id, record.event.correlation_id


def _from_game(record: Recorded, topics: Topics) -> list[Step]:
    game = record.event.payload
    steps = [_game_step("game", record)]
    config = record.event.config_key
    games = [item for item in topics.games if item.event.config_key == config]
    shards = [item for item in topics.shards if item.event.config_key == config]
    windows = shard_windows(games, shards)
    for shard in shards:
        if game.game_id in windows.get(shard.event.payload.shard_id, ()):
            return steps + _from_shard(shard, topics)
    return steps + [Step("shard", record.event.produced_at, "-", "in no shard yet (pending "
                         "at the exporter)", "")]


def _from_shard(record: Recorded, topics: Topics) -> list[Step]:
    shard = record.event.payload
    steps = [Step("shard", record.event.produced_at, shard.shard_id,
                  f"{shard.num_samples} samples from {shard.num_games} games "
                  f"({shard.first_game_id} .. {shard.last_game_id})", record.event.event_id)]
    users = [item for item in topics.candidates
             if shard.shard_id in item.event.payload.shard_ids]
    if not users:
        return steps + [Step("candidate", record.event.produced_at, "-",
                             "not trained on yet", "")]
    first = users[0].event.payload.model_id
    if len(users) > 1:
        later = ", ".join(item.event.payload.model_id for item in users[1:])
        steps.append(Step("note", users[0].event.produced_at, "-",
                          f"also in the windows of {len(users) - 1} later candidate(s): "
                          f"{later}", ""))
    return steps + _from_candidate(first, topics)


def _cause(record: Recorded, topics: Topics) -> list[Step]:
    """The shard event that made the trainer start this candidate, if it is known."""
    for shard in topics.shards:
        if shard.event.event_id == record.event.causation_id:
            payload = shard.event.payload
            return [Step("cause: shard", shard.event.produced_at, payload.shard_id,
                         f"{payload.num_samples} samples; the shard that started the run",
                         shard.event.event_id)]
    return []


def _from_candidate(model_id: str, topics: Topics) -> list[Step]:
    steps: list[Step] = []
    for record in topics.candidates:
        candidate = record.event.payload
        if candidate.model_id == model_id:
            losses = ", ".join(f"{name} {value:.3f}" for name, value in
                               sorted(candidate.losses.items()))
            steps.append(Step("candidate", record.event.produced_at, model_id,
                              f"step {candidate.train_step}, {candidate.samples_seen} samples "
                              f"seen, {len(candidate.shard_ids)} shards, parent "
                              f"{candidate.parent_model_id or 'none'} ({losses})",
                              record.event.event_id))
    for record in topics.started:
        started = record.event.payload
        if started.model_id == model_id:
            steps.append(Step("evaluation started", record.event.produced_at,
                              started.evaluation_id, f"against {started.opponent_model_id}, "
                              f"at most {started.max_games} games", record.event.event_id))
    for record in topics.completed:
        result = record.event.payload
        if result.model_id == model_id:
            gate = result.gate
            steps.append(Step("evaluation", record.event.produced_at, result.evaluation_id,
                              f"gate {gate.verdict}: {gate.summary or gate.statistic} "
                              f"({result.games_played} games, {result.seconds:.0f} s)",
                              record.event.event_id))
    promoted_at: datetime | None = None
    for record in topics.lifecycle:
        change = record.event.payload
        if change.model_id == model_id:
            name = Lifecycle.Transition.Name(change.transition).lower().replace("_", " ")
            steps.append(Step(name, record.event.produced_at, model_id,
                              f"{change.reason} (by {change.actor or '?'}; previous "
                              f"{change.previous_model_id or 'none'})", record.event.event_id))
    for record in topics.current:
        current = record.event.payload
        if current.model_id == model_id:
            promoted_at = promoted_at or record.event.produced_at
            steps.append(Step("current model", record.event.produced_at, model_id,
                              f"revision {current.revision}", record.event.event_id))
    if promoted_at is not None:
        first = _first_game_with(model_id, promoted_at, topics.games)
        if first is not None:
            steps.append(_game_step("first game with it", first))
    return steps


def _first_game_with(model_id: str, since: datetime, games: Iterable[Recorded]
                     ) -> Recorded | None:
    for record in games:
        if record.event.produced_at >= since and model_id in record.event.payload.seat_model_ids:
            return record
    return None


def _game_step(stage: str, record: Recorded) -> Step:
    game: Any = record.event.payload
    seconds = game.duration.seconds + game.duration.nanos / 1e9
    return Step(stage, record.event.produced_at, game.game_id,
                f"{game.num_moves} moves in {seconds:.1f} s, seats "
                f"{' / '.join(game.seat_model_ids)}, "
                f"{'ranking ' + ','.join(map(str, game.ranking)) if game.terminal else 'truncated'}",
                record.event.event_id)
