"""SIGKILL of the evaluator in the middle of a match, then a restart: nothing lost, nothing doubled.

The match (an untrained network against uniform search, 2 simulations, 60-move games: a
gate of 16 games in batches of 4, then 2 games against each of random and heuristic) is
killed once some games are stored. The restarted process takes the job over once its lease
ran out, resumes it from the stored games (it plays only the missing ones: its own game
counter says so), and the evaluation is announced once and answered once, counting every
game of the log exactly once; the games stored before the kill are untouched.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from ringrift.events.topics import CANDIDATE_READY, EVALUATION_COMPLETED, EVALUATION_STARTED
from ringrift.storage.database import make_engine, session_scope
from services.evaluator.tables import MatchGame
from tests.fixtures.services import ServiceEnv
from tests.integration.services.evaluator.test_evaluator_gate import metric
from tests.utils.evaluator import candidate

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
FLAGS = ("--simulations", "2", "--max-moves", "60", "--gate-batch-games", "4",
         "--gate-max-games", "16", "--baseline-games", "2")
TOTAL_GAMES = 16 + 2 + 2


def stored_games(url: str) -> dict[tuple[str, int], tuple]:
    engine = make_engine(url)
    try:
        with session_scope(engine, read_only=True) as session:
            return {(g.opponent_id, g.game_index): (tuple(g.players), tuple(g.ranking),
                                                    g.played_at)
                    for g in session.scalars(select(MatchGame))}
    finally:
        engine.dispose()


def test_sigkill_mid_match_resumes_from_the_stored_games(service_env: ServiceEnv,
                                                         untrained_checkpoint) -> None:
    ref = untrained_checkpoint.stored(service_env)
    url = service_env.migrate("evaluator")
    env = service_env.env("evaluator", RINGRIFT_KAFKA_JOB_LEASE_S="3")
    first = service_env.start("evaluator", *FLAGS, env=env)
    service_env.publish(CANDIDATE_READY, [candidate(untrained_checkpoint.model_id, ref=ref)])

    deadline = time.monotonic() + 900
    while len(stored_games(url)) < 5:
        assert first.process.poll() is None, first.log()
        assert time.monotonic() < deadline, f"no games stored in time:\n{first.log()}"
        time.sleep(0.5)
    first.process.kill()
    first.wait()
    before = stored_games(url)
    assert 5 <= len(before) < TOTAL_GAMES, "the match ended before the kill; make it longer"

    second = service_env.start("evaluator", *FLAGS, env=env)
    completed = service_env.read(EVALUATION_COMPLETED, 1, timeout=1500, settle_s=5)
    assert len(completed) == 1, [e.payload.evaluation_id for e in completed]
    result = completed[0].payload
    assert len(service_env.read(EVALUATION_STARTED, 1, settle_s=2)) == 1
    after = stored_games(url)
    assert result.games_played == len(after) == TOTAL_GAMES
    assert {key: after[key] for key in before} == before  # kept, not replayed
    page = second.get("/metrics").text
    played = sum(metric(page, "ringrift_evaluator_games_played_total", 0.0,
                        config="square8_2p", role=role) for role in ("gate", "baseline"))
    assert played == TOTAL_GAMES - len(before)
    assert f"{len(before)} games against uniform stored already; resuming" in second.log()
