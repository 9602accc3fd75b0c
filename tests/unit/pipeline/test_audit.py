"""The end-to-end test's checks (``tests/integration/pipeline/audit.py``) on a recorded run.

Each check passes on the recorded chain of :mod:`tests.unit.pipeline.chain` and names the
fault on a copy with one thing broken: a game in no shard or in two, a shard trained on by
no candidate, a candidate decided twice or never or left undecided in the registry,
``model.current`` other than the last promotion, a game playing a model that was not
current when it started (a change a moment before its start is allowed), a model that must
have played and did not, a run where no game followed any promotion, a promoted model
not rated (or rated without an interval) by the evaluation that promoted it, and no
curriculum weights for the config or no cluster status naming a node.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from ringrift.events.envelope import follow_up, new_event
from ringrift.events.gen.model.v1 import model_pb2
from ringrift.events.gen.ops.v1 import ops_pb2
from tests.integration.pipeline import audit
from tests.unit.pipeline.chain import CONFIG, MODEL, chain, game, recorded, shard, stamped

SLACK = timedelta(seconds=10)


def test_every_game_in_exactly_one_shard() -> None:
    stages = chain()
    games, shards = recorded(stages["games"][:5]), recorded(stages["shards"])
    assert audit.games_in_exactly_one_shard(games, shards) == []
    assert audit.games_in_exactly_one_shard(recorded(stages["games"][:6]), shards) == [
        "game g6 is in 0 shards"]
    overlapping = recorded([*stages["shards"], shard("s-3", "g3", "g4", 2, 6)])
    assert audit.games_in_exactly_one_shard(games, overlapping) == [
        "game g3 is in 2 shards", "game g4 is in 2 shards"]


def test_every_shard_trained_on() -> None:
    stages = chain()
    shards, candidates = recorded(stages["shards"]), recorded(stages["candidates"])
    assert audit.shards_trained_on(shards, candidates, 100) == []
    only_newest = recorded([stamped(follow_up(stages["shards"][1], model_pb2.CandidateReady(
        model_id=MODEL, config_key=CONFIG, shard_ids=["s-2"]), producer="trainer"), 10)])
    assert audit.shards_trained_on(shards, only_newest, 100) == [
        "shard s-1 was never trained on, though later shards were"]
    assert audit.shards_trained_on(shards, [], 300) == []  # 200 samples: too few for a run
    assert audit.shards_trained_on(shards, [], 200) == [
        "200 samples in untrained shards, at least the 200 that start a run"]


def test_one_decision_per_candidate() -> None:
    stages = chain()
    candidates, lifecycle = recorded(stages["candidates"]), recorded(stages["lifecycle"])
    assert audit.one_decision_per_candidate(candidates, lifecycle, {MODEL: "promoted"}) == []
    assert audit.one_decision_per_candidate(candidates, [], {MODEL: "promoted"}) == [
        f"candidate {MODEL}: decisions none, not exactly one"]
    twice = recorded(stages["lifecycle"] * 2)
    assert audit.one_decision_per_candidate(candidates, twice, {MODEL: "promoted"}) == [
        f"candidate {MODEL}: decisions ['PROMOTED', 'PROMOTED'], not exactly one"]
    assert audit.one_decision_per_candidate(candidates, lifecycle, {MODEL: "evaluating"}) == [
        f"candidate {MODEL}: the promoter's registry says 'evaluating'"]


def test_current_is_the_last_promotion() -> None:
    stages = chain()
    lifecycle, current = recorded(stages["lifecycle"]), recorded(stages["current"])
    assert audit.current_is_last_promotion(lifecycle, current) == []
    assert audit.current_is_last_promotion(lifecycle, []) == ["model.current is empty"]
    assert audit.current_is_last_promotion(recorded(stages["lifecycle"] * 2), current) == [
        "model.current revision 1 after 2 promotions"]


def test_games_after_a_promotion_play_the_new_model() -> None:
    current = recorded(chain()["current"])  # MODEL current at 20.5 s
    # The chain's games last 30 s: one published at 70 s started at 40 s.
    after = [game("g8", 70, MODEL), game("g9", 71, MODEL)]
    assert audit.games_follow_promotions(recorded(after), current, SLACK, [MODEL]) == []
    late = [*after, game("g10", 54)]  # started 3.5 s after the promotion: may play uniform
    assert audit.games_follow_promotions(recorded(late), current, SLACK, [MODEL]) == []
    stale = [*after, game("g11", 72)]  # started 21.5 s after it, still uniform
    assert audit.games_follow_promotions(recorded(stale), current, SLACK, [MODEL]) == [
        "1 games play a model that was not current when they started, e.g. ['g11']"]
    early = [game("g12", 40, MODEL), *after]  # started at 10 s, before the promotion
    assert audit.games_follow_promotions(recorded(early), current, SLACK, [MODEL]) == [
        "1 games play a model that was not current when they started, e.g. ['g12']"]
    before = recorded(chain()["games"][:5])  # all started before the promotion
    assert audit.games_follow_promotions(before, current, SLACK, [MODEL]) == [
        "no game started after the first promotion", f"no game was played with {MODEL}"]
    assert audit.games_follow_promotions(before, [], SLACK, []) == [
        "no model ever became current"]


def test_promoted_models_are_rated_with_an_interval() -> None:
    stages = chain()
    lifecycle, completed = recorded(stages["lifecycle"]), recorded(stages["completed"])
    assert audit.promoted_ratings_have_intervals(lifecycle, completed) == []
    assert audit.promoted_ratings_have_intervals(lifecycle, []) == [
        f"{MODEL} promoted by evaluation ev-1, which was never published"]
    unrated = model_pb2.EvaluationCompleted()
    unrated.CopyFrom(stages["completed"][0].payload)
    del unrated.ratings[:]
    assert audit.promoted_ratings_have_intervals(lifecycle, recorded([
        replace(stages["completed"][0], payload=unrated)])) == [f"{MODEL} is not rated by ev-1"]
    unrated.ratings.add(player_id=MODEL).elo.value = 240.0  # a point, no interval
    assert audit.promoted_ratings_have_intervals(lifecycle, recorded([
        replace(stages["completed"][0], payload=unrated)])) == [
        f"{MODEL}'s rating 240 has no interval [0, 0]"]
    assert audit.promoted_ratings_have_intervals([], completed) == [
        "no model was promoted by the gate"]


def test_curriculum_weights_and_cluster_status_published() -> None:
    weights = recorded([new_event(ops_pb2.CurriculumWeights(weights=[ops_pb2.ConfigWeight(
        config_key=CONFIG, weight=1.0)]), config_key="all", producer="curriculum")])
    cluster = recorded([new_event(ops_pb2.ClusterStatus(nodes=[ops_pb2.NodeHealth(
        node_id="n1")]), config_key="all", producer="cluster-monitor")])
    assert audit.feedback_published(weights, cluster, CONFIG) == []
    assert audit.feedback_published(weights, cluster, "hex8_2p") == [
        "no curriculum weights for hex8_2p"]
    assert audit.feedback_published([], recorded([new_event(
        ops_pb2.ClusterStatus(), config_key="all", producer="cluster-monitor")]), CONFIG) == [
        f"no curriculum weights for {CONFIG}", "no cluster status with a node"]
