"""Choosing evaluations: opponent, number, baselines, the plan, and waiting for the promoter.

Checks: the migrated database matches the tables (SQLite and PostgreSQL); before any
promotion the opponent is ``uniform``, afterwards the current model with its weights; the
id is a function of (config, candidate, opponent) and the same pair gives the same row;
numbers count per config, and the ladder is due with the 1st and every K-th (random,
heuristic, then the first promoted model with the weights its candidate announced, never
the candidate or its gate opponent); the plan fixes the gate's settings and the sizes;
after a passed gate the next evaluation waits until the decision is seen, the model is
current, or the wait is over; seeds differ per match and are non-negative.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ringrift.storage import migrations
from ringrift.storage.database import session_scope
from services.evaluator import handlers, planning
from services.evaluator.settings import EvaluatorSettings
from services.evaluator.tables import Base, Evaluation, FirstPromotion
from tests.utils.evaluator import SHA, candidate, current
from tests.utils.schema import schema_differences

SETTINGS = EvaluatorSettings(baselines_every=2, gate_max_games=40, gate_batch_games=8,
                             simulations=3, baseline_games=6)


def params(model_id: str, config_key: str = "square8_2p") -> dict[str, str]:
    return {"model_id": model_id, "config_key": config_key, "uri": f"file:///w/{model_id}.pt",
            "sha256": SHA}


def choose(engine, model_id, current_model=None, config_key="square8_2p") -> Evaluation:
    with session_scope(engine) as session:
        row = planning.choose(session, params(model_id, config_key), SETTINGS, current_model)
        session.flush()
        session.expunge(row)
    return row


def test_the_migrated_schema_matches_the_tables(database_url) -> None:
    migrations.upgrade_to_head(database_url, "evaluator")
    assert schema_differences(database_url, Base) == []


def test_before_a_promotion_the_opponent_is_uniform_then_the_current_model(engine) -> None:
    first = choose(engine, "m1")
    assert first.opponent_model_id == "uniform" and first.plan["opponent"]["uri"] == ""
    assert first.evaluation_id == planning.evaluation_id("square8_2p", "m1", "uniform")
    second = choose(engine, "m2", current("m1"))
    assert second.opponent_model_id == "m1"
    assert second.plan["opponent"] == {"model_id": "m1", "uri": "file:///w/current.pt",
                                       "sha256": SHA}
    again = choose(engine, "m2", current("m1"))
    assert (again.evaluation_id, again.number) == (second.evaluation_id, second.number)
    assert planning.evaluation_id("square8_2p", "m2", "m1") != planning.evaluation_id(
        "hex8_2p", "m2", "m1")


def test_numbers_per_config_decide_the_baselines(engine) -> None:
    with session_scope(engine) as session:
        handlers.handle(candidate("m1"), session)  # the first promoted model's weights
        session.add(FirstPromotion(config_key="square8_2p", model_id="m1",
                                   promoted_at=datetime.now(UTC)))
    rows = [choose(engine, "m1"), choose(engine, "m2", current("m1")),
            choose(engine, "m3", current("m2")), choose(engine, "m4", current("m2")),
            choose(engine, "h1", config_key="hex8_2p")]
    assert [row.number for row in rows] == [1, 2, 3, 4, 1]
    ladders = [[b["model_id"] for b in row.plan["baselines"]] for row in rows]
    assert ladders == [["random", "heuristic"],  # 1st; the first promoted model is itself
                       ["random", "heuristic"],  # 2nd; the first promoted is its opponent
                       [],  # 3rd: not due
                       ["random", "heuristic", "m1"],
                       ["random", "heuristic"]]  # hex8: no promotion yet
    assert rows[3].plan["baselines"][2] == {"model_id": "m1", "uri": "file:///w/m.pt",
                                            "sha256": SHA}
    assert [row.baselines for row in rows] == [True, True, False, True, True]


def test_the_plan_fixes_what_the_match_depends_on(engine) -> None:
    plan = choose(engine, "m1").plan
    assert plan["candidate"] == {"model_id": "m1", "uri": "file:///w/m1.pt", "sha256": SHA}
    assert plan["gate"]["max_games"] == 40 and plan["gate"]["batch_games"] == 8
    assert (plan["simulations"], plan["baseline_games"], plan["max_moves"]) == (3, 6, 600)


def test_after_a_passed_gate_the_next_evaluation_waits_for_the_decision(engine) -> None:
    row = choose(engine, "m1")

    def finish(passed: bool, ago_s: float = 0.0, decided: bool = False) -> None:
        with session_scope(engine) as session:
            stored = session.get(Evaluation, row.evaluation_id)
            stored.state, stored.passed = planning.DONE, passed
            stored.finished_at = datetime.now(UTC) - timedelta(seconds=ago_s)
            stored.decided_at = datetime.now(UTC) if decided else None

    def pending(current_model=None) -> str | None:
        with session_scope(engine, read_only=True) as session:
            return planning.pending_decision(session, "square8_2p", current_model, 60)

    assert pending() is None  # still playing: nothing decided to wait for
    finish(passed=False)
    assert pending() is None
    finish(passed=True)
    assert "waiting up to 60 s for the promoter" in pending()
    assert pending(current("m1")) is None  # promoted: m1 is current
    finish(passed=True, decided=True)
    assert pending() is None  # rejected (or promoted) and seen
    finish(passed=True, ago_s=120)
    assert pending() is None  # no decision in time: go on


@pytest.mark.parametrize("opponent", ["m1", "random", "heuristic"])
def test_match_seeds_differ_per_match(opponent) -> None:
    seed = planning.match_seed("ev-1", opponent)
    assert 0 <= seed < 2**60 and seed != planning.match_seed("ev-2", opponent)
