"""A small recorded pipeline history for the view's and the trace's unit tests.

Five games of square8_2p (ids g1..g5), a shard over g1..g3 and one over g4..g5, a
candidate trained on both, its evaluation started and completed (passed), its promotion
with the current model, and two later games: one still with the uniform evaluator (in
flight at the promotion) and one played with the new model. Times step by one second
from 12:00:00 UTC, so lags are known.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

from google.protobuf.message import Message

from ringrift.events.envelope import Event, follow_up, new_event
from ringrift.events.gen.model.v1 import model_pb2
from ringrift.events.gen.selfplay.v1 import selfplay_pb2
from ringrift.pipeline.history import Recorded
from ringrift.pipeline.trace import Topics

CONFIG = "square8_2p"
T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
MODEL = "rr-candidate-1"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def stamped(event: Event, seconds: float) -> Event:
    return Event(event.payload, event.config_key, event.producer, event.event_id,
                 event.correlation_id, event.causation_id, at(seconds))


def game(game_id: str, seconds: float, model: str = "uniform") -> Event:
    payload = selfplay_pb2.GameCompleted(game_id=game_id, config_key=CONFIG,
                                         seat_model_ids=[model, model], num_moves=80,
                                         ranking=[1, 2], terminal=True)
    payload.duration.FromSeconds(30)
    return stamped(new_event(payload, config_key=CONFIG, producer="selfplay"), seconds)


def shard(shard_id: str, first: str, last: str, games: int, seconds: float) -> Event:
    payload = selfplay_pb2.ShardWritten(shard_id=shard_id, config_key=CONFIG, num_samples=100,
                                        num_games=games, first_game_id=first,
                                        last_game_id=last)
    return stamped(new_event(payload, config_key=CONFIG, producer="exporter"), seconds)


@cache
def chain() -> dict[str, list[Event]]:
    """The events by stage, in the order the topics hold them (the same on every call)."""
    games = [game(f"g{i}", i) for i in range(1, 6)]
    shards = [shard("s-1", "g1", "g3", 3, 3.5), shard("s-2", "g4", "g5", 2, 5.5)]
    candidate = stamped(follow_up(shards[1], model_pb2.CandidateReady(
        model_id=MODEL, config_key=CONFIG, shard_ids=["s-2", "s-1"], train_step=8,
        losses={"policy": 2.5, "value": 0.5}), producer="trainer"), 10)
    started = stamped(follow_up(candidate, model_pb2.EvaluationStarted(
        evaluation_id="ev-1", model_id=MODEL, config_key=CONFIG, opponent_model_id="uniform",
        max_games=8), producer="evaluator"), 10.25)
    result = model_pb2.EvaluationCompleted(evaluation_id="ev-1", model_id=MODEL,
                                           config_key=CONFIG, games_played=8, seconds=9.5)
    result.gate.passed, result.gate.verdict, result.gate.statistic = True, "pass", 3.1
    result.gate.llr_lower, result.gate.llr_upper, result.gate.games = -2.2, 2.9, 8
    result.gate.opponent_model_id = "uniform"
    result.gate.score.value, result.gate.score.lower, result.gate.score.upper = 0.8, 0.6, 0.9
    rating = result.ratings.add(player_id=MODEL)
    rating.elo.value, rating.elo.lower, rating.elo.upper = 240.0, 180.0, 300.0
    completed = stamped(follow_up(started, result, producer="evaluator"), 20)
    promoted = stamped(follow_up(completed, model_pb2.ModelLifecycleChanged(
        transition=model_pb2.ModelLifecycleChanged.PROMOTED, model_id=MODEL, config_key=CONFIG,
        reason="gate: passed", actor="promoter", evaluation_id="ev-1"),
        producer="promoter"), 20.5)
    current = stamped(follow_up(completed, model_pb2.CurrentModel(
        config_key=CONFIG, model_id=MODEL, revision=1), producer="promoter"), 20.5)
    later = [game("g6", 21), game("g7", 23, MODEL)]
    return {"games": games + later, "shards": shards, "candidates": [candidate],
            "started": [started], "completed": [completed], "lifecycle": [promoted],
            "current": [current]}


def recorded(events: list[Event[Message]], topic: str = "t") -> list[Recorded]:
    return [Recorded(event, topic, 0, offset) for offset, event in enumerate(events)]


def topics() -> Topics:
    stages = chain()
    return Topics(**{stage: recorded(events) for stage, events in stages.items()})
