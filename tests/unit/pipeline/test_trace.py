"""``ringrift events trace``: the chain built from a recorded history (no broker).

Checks: a game leads to the shard whose window holds it, the candidate trained on that
shard, its evaluation, promotion, the current model and the first game played with it
(not a game still in flight with the old model), with the produced-at times; a shard, a
model id, an evaluation id, an event id and a correlation id all find the chain; a game
not yet in a shard says so; an unknown id gives nothing; shard windows follow the
partition order, count a republished game once and leave imports out; the printed lines
show the lag between stages.
"""

from __future__ import annotations

from ringrift.pipeline.trace import build_trace, shard_windows
from ringrift.pipeline.trace_cli import format_steps
from tests.unit.pipeline.chain import MODEL, T0, at, chain, game, recorded, shard, topics


def test_a_game_leads_through_every_stage_to_the_first_game_with_the_new_model() -> None:
    steps = build_trace("g4", topics())
    assert [step.stage for step in steps] == [
        "game", "shard", "candidate", "evaluation started", "evaluation", "promoted",
        "current model", "first game with it"]
    assert [step.id for step in steps] == ["g4", "s-2", MODEL, "ev-1", "ev-1", MODEL, MODEL,
                                           "g7"]
    assert [(step.at - T0).total_seconds() for step in steps] == [4, 5.5, 10, 10.25, 20, 20.5,
                                                                  20.5, 23]
    assert "gate pass" in steps[4].detail


def test_every_kind_of_id_finds_its_chain() -> None:
    stages = chain()
    candidate = stages["candidates"][0]
    assert build_trace("s-1", topics())[0].id == "s-1"
    model_chain = build_trace(MODEL, topics())
    assert model_chain[0].stage == "cause: shard" and model_chain[0].id == "s-2"
    assert build_trace("ev-1", topics())[0].stage == "candidate"
    assert build_trace(candidate.event_id, topics())[1].id == MODEL
    # The candidate carries the correlation id of the shard that started its run.
    assert build_trace(stages["shards"][1].correlation_id, topics())[0].id == "s-2"
    game_event = stages["games"][0]
    assert build_trace(game_event.event_id, topics())[0].id == "g1"
    assert build_trace("nothing-like-it", topics()) == []


def test_a_pending_game_and_an_untrained_shard_say_so() -> None:
    pending = build_trace("g6", topics())
    assert [step.stage for step in pending] == ["game", "shard"]
    assert "in no shard yet" in pending[1].detail


def test_shard_windows_follow_partition_order_and_count_a_republished_game_once() -> None:
    games = recorded([game("a", 1), game("b", 2), game("a", 3), game("c", 4), game("d", 5)])
    shards = recorded([shard("s-1", "a", "b", 2, 2.5), shard("s-2", "c", "d", 2, 6),
                       shard("import-1", "x", "y", 2, 7)])
    assert shard_windows(games, shards) == {"s-1": ["a", "b"], "s-2": ["c", "d"]}


def test_the_printed_trace_has_times_and_lags() -> None:
    lines = format_steps("g4", build_trace("g4", topics()))
    assert lines[0].startswith("trace of g4")
    assert f"{at(4):%Y-%m-%d %H:%M:%S}.000" in lines[1]
    assert "+1.500 s" in lines[2]  # game -> shard
    assert "+9.750 s" in lines[5]  # evaluation started -> completed
    assert format_steps("zzz", [])[0].startswith("no event on the pipeline's topics")
