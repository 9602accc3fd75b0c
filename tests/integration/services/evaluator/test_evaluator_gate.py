"""The evaluator as a process against the real broker: the gate, the result, ratings, metrics.

A candidate much stronger than search over the uniform evaluator (the opponent before any
promotion) passes the gate; once it is current (published as the promoter would), the same
checkpoint announced again plays against itself and does not pass. Each evaluation is
announced once (``EvaluationStarted``) and answered once (``EvaluationCompleted``) with the
gate's statistics, the results per opponent (the gate first, then the baselines of the
first candidate), ratings of the whole match log with intervals (random = 0), and the
service's metrics show the games, the LLR, the ratings and the evaluation time.

Gate settings of the test (elo1 150, alpha 0.02, beta 0.05, batches of 8, at most 64): by
the library's simulation a +255 Elo candidate passes 99.8% of the time (mean 29 games) and an
equal one 1%; seeds are derived from the evaluation ids, so the outcome is fixed per build.
"""

from __future__ import annotations

import re

import pytest

from ringrift.events.envelope import new_event
from ringrift.events.topics import (
    CANDIDATE_READY,
    EVALUATION_COMPLETED,
    EVALUATION_STARTED,
    MODEL_CURRENT,
)
from tests.fixtures.services import ServiceEnv
from tests.utils.evaluator import candidate, current

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
GATE_FLAGS = ("--simulations", "4", "--gate-elo1", "150", "--gate-alpha", "0.02",
              "--gate-beta", "0.05", "--gate-batch-games", "8", "--gate-max-games", "64",
              "--baseline-games", "2", "--baselines-every", "4")
EVALUATION_TIMEOUT_S = 1500.0  # generous: a loaded 2-core machine, several helpers at once


def metric(text: str, name: str, default: float | None = None, **labels: str) -> float:
    """The value of one series in a Prometheus text page (``default`` if it is absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(pattern, text)
    if found is None and default is not None:
        return default
    assert found, f"no {name}{{{wanted}}} in the metrics"
    return float(found.group(1))


def test_a_much_stronger_candidate_passes_and_the_same_checkpoint_does_not(
        service_env: ServiceEnv, strong_checkpoint) -> None:
    ref = strong_checkpoint.stored(service_env)
    model_id = strong_checkpoint.model_id
    service_env.migrate("evaluator")
    evaluator = service_env.start("evaluator", *GATE_FLAGS)
    service_env.publish(CANDIDATE_READY, [candidate(model_id, ref=ref)])

    [first] = service_env.read(EVALUATION_COMPLETED, 1, timeout=EVALUATION_TIMEOUT_S)
    result = first.payload
    gate = result.gate
    print(f"\nstrong vs uniform: {gate.summary}; {result.games_played} games in "
          f"{result.seconds:.0f} s")  # figures, shown with pytest -s
    assert gate.passed and gate.verdict == "pass", gate.summary
    assert gate.opponent_model_id == "uniform" and gate.statistic >= gate.llr_upper
    assert (gate.elo0, gate.elo1, gate.alpha, gate.beta) == (0, 150, 0.02, 0.05)
    assert gate.games % 8 == 0 and gate.games <= 64 and sum(gate.counts) == gate.games // 2
    assert gate.elo.lower < gate.elo.value < gate.elo.upper and gate.elo.value > 0
    assert [(r.opponent_model_id, r.role) for r in result.results] == [
        ("uniform", "gate"), ("random", "baseline"), ("heuristic", "baseline")]
    assert result.games_played == gate.games + 2 + 2
    ratings = {r.player_id: r for r in result.ratings}
    assert set(ratings) == {"random", "heuristic", "uniform", model_id}
    assert ratings["random"].elo.value == 0
    for rating in result.ratings:
        if rating.player_id != "random":
            assert rating.stderr > 0
            assert rating.elo.lower < rating.elo.value < rating.elo.upper
    assert result.elo == ratings[model_id].elo and result.elo.confidence == 0.95
    assert result.elo.value > ratings["uniform"].elo.value

    # The promoter makes it current; the same checkpoint announced again meets itself.
    service_env.publish(MODEL_CURRENT, [new_event(current(model_id, ref=ref),
                                                  config_key="square8_2p", producer="promoter")])
    service_env.publish(CANDIDATE_READY, [candidate(model_id, ref=ref)])
    events = service_env.read(EVALUATION_COMPLETED, 2, timeout=EVALUATION_TIMEOUT_S)
    assert len(events) == 2
    second = events[1].payload
    print(f"same checkpoint: {second.gate.summary}; {second.games_played} games in "
          f"{second.seconds:.0f} s")
    assert second.gate.opponent_model_id == model_id and not second.gate.passed
    assert second.gate.verdict in ("fail", "inconclusive"), second.gate.summary
    assert [r.role for r in second.results] == ["gate"]  # the 2nd: no baselines due
    assert second.evaluation_id != result.evaluation_id

    started = service_env.read(EVALUATION_STARTED, 2)
    assert [e.payload.evaluation_id for e in started] == [result.evaluation_id,
                                                           second.evaluation_id]
    assert [e.payload.opponent_model_id for e in started] == ["uniform", model_id]

    page = evaluator.get("/metrics").text
    assert metric(page, "ringrift_evaluator_games_played_total", config="square8_2p",
                  role="gate") == gate.games + second.gate.games
    assert metric(page, "ringrift_evaluator_sprt_llr_nats",
                  config="square8_2p") == pytest.approx(second.gate.statistic)
    assert metric(page, "ringrift_evaluator_rating_elo", config="square8_2p",
                  model=model_id) == pytest.approx(
                      {r.player_id: r for r in second.ratings}[model_id].elo.value)
    assert metric(page, "ringrift_evaluator_evaluation_seconds_count", config="square8_2p") == 2
    assert evaluator.get("/readyz").status_code == 200
