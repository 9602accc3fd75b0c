"""Checks of a finished pipeline run, from its topics and its services' APIs only.

Each function takes the run's :class:`~ringrift.pipeline.history.History` (and the
promoter's REST answers) and returns the problems it found, as sentences; an empty list
means the property holds. The end-to-end test asserts each list is empty, so a failure
names every game, shard or model that breaks it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

from ringrift.evaluation.players import UNIFORM_ID
from ringrift.events.gen.model.v1 import model_pb2
from ringrift.pipeline.history import Recorded
from ringrift.pipeline.trace import shard_windows

Lifecycle = model_pb2.ModelLifecycleChanged
DECISIONS = (Lifecycle.PROMOTED, Lifecycle.REJECTED)


def games_in_exactly_one_shard(games: list[Recorded], shards: list[Recorded]) -> list[str]:
    """Every game published (once per id) is in the window of exactly one shard, and each
    shard's game count is its window's."""
    windows = shard_windows(games, shards)
    problems = [f"shard {record.event.payload.shard_id}: its window's ends are not games of "
                "the topic" for record in shards if record.event.payload.shard_id not in windows]
    count = Counter(game for window in windows.values() for game in window)
    published = {record.event.payload.game_id for record in games}
    problems += [f"game {game} is in {count[game]} shards" for game in sorted(published)
                 if count[game] != 1]
    for record in shards:
        shard = record.event.payload
        if shard.shard_id in windows and len(windows[shard.shard_id]) != shard.num_games:
            problems.append(f"shard {shard.shard_id} says {shard.num_games} games, its window "
                            f"holds {len(windows[shard.shard_id])}")
    return problems


def shards_trained_on(shards: list[Recorded], candidates: list[Recorded],
                      samples_per_candidate: int) -> list[str]:
    """Every shard is in some candidate's training window, except the newest ones written
    after the last run started, which together hold fewer samples than start a run."""
    used = {shard_id for record in candidates for shard_id in record.event.payload.shard_ids}
    unused = [record for record in shards if record.event.payload.shard_id not in used]
    if not unused:
        return []
    last_used = max((index for index, record in enumerate(shards)
                     if record.event.payload.shard_id in used), default=-1)
    problems = [f"shard {record.event.payload.shard_id} was never trained on, though later "
                "shards were" for record in unused if shards.index(record) < last_used]
    waiting = sum(record.event.payload.num_samples for record in unused
                  if shards.index(record) > last_used)
    if waiting >= samples_per_candidate:
        problems.append(f"{waiting} samples in untrained shards, at least the "
                        f"{samples_per_candidate} that start a run")
    return problems


def one_decision_per_candidate(candidates: list[Recorded], lifecycle: list[Recorded],
                               api_states: dict[str, str]) -> list[str]:
    """Each candidate was promoted or rejected exactly once, and the promoter's registry
    shows it in a terminal state (promoted, superseded or rejected)."""
    decisions: dict[str, list[int]] = defaultdict(list)
    for record in lifecycle:
        change = record.event.payload
        if change.transition in DECISIONS:
            decisions[change.model_id].append(change.transition)
    problems = []
    for record in candidates:
        model = record.event.payload.model_id
        if len(decisions.get(model, [])) != 1:
            names = [Lifecycle.Transition.Name(t) for t in decisions.get(model, [])]
            problems.append(f"candidate {model}: decisions {names or 'none'}, not exactly one")
        if api_states.get(model) not in ("promoted", "superseded", "rejected"):
            problems.append(f"candidate {model}: the promoter's registry says "
                            f"{api_states.get(model)!r}")
    return problems


def current_is_last_promotion(lifecycle: list[Recorded], current: list[Recorded]) -> list[str]:
    """``model.current`` holds the last promoted model, at the revision that counts every
    promotion."""
    promoted = [r.event.payload.model_id for r in lifecycle
                if r.event.payload.transition == Lifecycle.PROMOTED]
    if not current:
        return ["model.current is empty"]
    latest = max(current, key=lambda record: record.event.payload.revision).event.payload
    problems = []
    if not promoted or latest.model_id != promoted[-1]:
        problems.append(f"model.current is {latest.model_id}, the last promotion "
                        f"{promoted[-1] if promoted else 'none'}")
    if latest.revision != len(promoted):
        problems.append(f"model.current revision {latest.revision} after {len(promoted)} "
                        "promotions")
    return problems


def games_follow_promotions(games: list[Recorded], current: list[Recorded],
                            slack: timedelta, must_have_played: list[str]) -> list[str]:
    """Every game plays, in every seat, a model that was current when it started or at most
    ``slack`` before (self-play sees a change a moment late, and a game's start is estimated
    from its publication), ``uniform`` before the first promotion; some game started after
    the first promotion; each model of ``must_have_played`` played a game (models promoted
    after self-play stopped have none, hence the explicit list)."""
    changes = sorted((r.event.produced_at, r.event.payload.model_id) for r in current)
    if not changes:
        return ["no model ever became current"]

    def current_during(start: Any, end: Any) -> set[str]:
        before = [model for at, model in changes if at < start]
        return {before[-1] if before else UNIFORM_ID,
                *(model for at, model in changes if start <= at <= end)}

    wrong = [r.event.payload.game_id for r in games
             if not set(r.event.payload.seat_model_ids) <= current_during(_started(r) - slack,
                                                                          _started(r))]
    problems = [f"{len(wrong)} games play a model that was not current when they started, "
                f"e.g. {wrong[:3]}"] if wrong else []
    if not any(_started(r) > changes[0][0] for r in games):
        problems.append("no game started after the first promotion")
    problems += [f"no game was played with {model}" for model in must_have_played
                 if not any(model in r.event.payload.seat_model_ids for r in games)]
    return problems


def _started(record: Recorded) -> Any:
    game = record.event.payload
    return record.event.produced_at - timedelta(seconds=game.duration.seconds,
                                                microseconds=game.duration.nanos // 1000)


def promoted_ratings_have_intervals(lifecycle: list[Recorded],
                                    completed: list[Recorded]) -> list[str]:
    """Each model the gate promoted is rated, with an interval, in the match log's ratings of
    the evaluation that promoted it (a person's promotion names no evaluation); the gate
    promoted some model."""
    results = {r.event.payload.evaluation_id: r.event.payload for r in completed}
    by_gate = [r.event.payload for r in lifecycle if r.event.payload.transition
               == Lifecycle.PROMOTED and r.event.payload.evaluation_id]
    problems = [] if by_gate else ["no model was promoted by the gate"]
    for change in by_gate:
        result = results.get(change.evaluation_id)
        if result is None:
            problems.append(f"{change.model_id} promoted by evaluation "
                            f"{change.evaluation_id}, which was never published")
            continue
        ratings = [r for r in result.ratings if r.player_id == change.model_id]
        if not ratings:
            problems.append(f"{change.model_id} is not rated by {change.evaluation_id}")
        elif not all(math.isfinite(x) for x in (ratings[0].elo.lower, ratings[0].elo.upper)) \
                or not ratings[0].elo.lower < ratings[0].elo.value < ratings[0].elo.upper:
            elo = ratings[0].elo
            problems.append(f"{change.model_id}'s rating {elo.value:g} has no interval "
                            f"[{elo.lower:g}, {elo.upper:g}]")
    return problems


def feedback_published(weights: list[Recorded], cluster: list[Recorded],
                       config: str) -> list[str]:
    """The curriculum published a positive weight for ``config``, and the cluster monitor
    a status that reports at least one node (the agent's)."""
    problems = []
    if not any(w.config_key == config and w.weight > 0
               for r in weights for w in r.event.payload.weights):
        problems.append(f"no curriculum weights for {config}")
    if not any(r.event.payload.nodes for r in cluster):
        problems.append("no cluster status with a node")
    return problems
