"""The curriculum's loop closed through selfplay: evaluations steer the mixture of games.

The curriculum (two enabled configs) publishes equal weights, and selfplay, whose own
``--configs`` names only square8_2p, plays both configs about equally: once weights
exist they decide. Then evaluation results favour square8_2p (its model's rating rises,
hex8_2p's stays flat); the curriculum moves weight to it (0.8 : 0.2 with these
settings), and the next selfplay run plays mostly square8_2p games while hex8_2p still
gets some (the floor).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ringrift.events.envelope import new_event
from ringrift.events.gen.common.v1.common_pb2 import Estimate
from ringrift.events.gen.model.v1.model_pb2 import (
    EvaluationCompleted,
    ModelLifecycleChanged,
    PlayerRating,
)
from ringrift.events.topics import (
    CURRICULUM_WEIGHTS,
    EVALUATION_COMPLETED,
    GAME_COMPLETED,
    MODEL_LIFECYCLE,
)
from tests.fixtures.services import ServiceEnv
from tests.integration.events.support import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
SQUARE, HEX = "square8_2p", "hex8_2p"
SELFPLAY = ("--configs", SQUARE, "--simulations", "2", "--max-considered-actions", "2",
            "--max-moves", "30", "--torch-threads", "1", "--concurrency", "4")


def ago(event, hours: float):
    return replace(event, produced_at=datetime.now(UTC) - timedelta(hours=hours))


def evaluation(config: str, evaluation_id: str, hours: float, **ratings: float):
    payload = EvaluationCompleted(
        evaluation_id=evaluation_id, model_id=max(ratings, key=ratings.get), config_key=config,
        ratings=[PlayerRating(player_id=p, elo=Estimate(value=e), stderr=30)
                 for p, e in ratings.items()])
    return ago(new_event(payload, config_key=config, producer="evaluator"), hours)


def promotion(config: str, model: str, hours: float):
    payload = ModelLifecycleChanged(transition=ModelLifecycleChanged.Transition.PROMOTED,
                                    model_id=model, config_key=config)
    return ago(new_event(payload, config_key=config, producer="promoter"), hours)


def weights(env: ServiceEnv) -> dict[str, float]:
    events = env.read(CURRICULUM_WEIGHTS, 1, timeout=30, settle_s=0.5)
    newest = max(events, key=lambda event: event.payload.revision) if events else None
    return {w.config_key: w.weight for w in newest.payload.weights} if newest else {}


def play(env: ServiceEnv, games: int, seen: set[str]) -> Counter[str]:
    """One bounded selfplay run; the configs of the games it published."""
    selfplay = env.start("selfplay", *SELFPLAY, "--max-games", str(games))
    assert selfplay.wait(timeout=900) == 0, selfplay.log()
    new = {event.payload.game_id: event.config_key
           for event in env.read(GAME_COMPLETED, len(seen) + games, timeout=120)
           if event.payload.game_id not in seen}
    seen.update(new)
    return Counter(new.values())


def test_evaluations_that_favour_a_config_shift_selfplays_games_to_it(
        service_env: ServiceEnv) -> None:
    env = service_env
    env.migrate("curriculum")
    env.migrate("selfplay")
    curriculum = env.start("curriculum", "--configs", f"{SQUARE},{HEX}", "--recompute-every-s",
                           "1", "--velocity-weight", "8", "--age-weight", "0")
    wait_until(lambda: weights(env) == pytest.approx({SQUARE: 0.5, HEX: 0.5}), 180,
               "equal weights")
    seen: set[str] = set()
    equal = play(env, 8, seen)
    assert sum(equal.values()) == 8 and equal[HEX] >= 2 and equal[SQUARE] >= 2, equal

    env.publish(EVALUATION_COMPLETED, [
        evaluation(SQUARE, "ev-s1", 4, uniform=0, m1=100),
        evaluation(HEX, "ev-h1", 4, uniform=0, h1=-20),
        evaluation(SQUARE, "ev-s2", 1, uniform=0, m1=400, m2=380),
        evaluation(HEX, "ev-h2", 1, uniform=0, h1=-20, h2=-40),
    ])
    env.publish(MODEL_LIFECYCLE, [promotion(SQUARE, "m1", 4)])
    wait_until(lambda: weights(env).get(SQUARE, 0) == pytest.approx(0.8), 180,
               "weights favouring square8_2p")
    favoured = play(env, 10, seen)
    assert sum(favoured.values()) == 10, favoured
    assert favoured[SQUARE] >= 6 and favoured[HEX] >= 1, favoured
    curriculum.terminate()
    assert curriculum.wait() == 0
