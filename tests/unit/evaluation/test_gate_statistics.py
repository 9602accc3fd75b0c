"""Statistical tests of the gate on simulated match results (no networks).

Thousands of gate matches per case run the gate's own test code on simulated results
(:mod:`ringrift.evaluation.characteristics`), seeded, so each figure is reproducible and
decisive: with 3,000 matches a pass rate of 5% is measured to +-0.4%.

Checks, for 2 players (pentanomial pairs) and 3 and 4 players (scores by rank), with the
default settings: an equal candidate is promoted at most alpha of the time; one 50 Elo weaker
well below that (under alpha / 10); one 100 Elo stronger with probability at least 1 - beta.
An equal candidate stays under alpha even when the test looks after every 4 games. The
simulation is calibrated (the candidate's expected score is the Elo curve's, in every player
count).
"""

from __future__ import annotations

import numpy as np
import pytest

from ringrift.evaluation import GateSettings, elo_to_score
from ringrift.evaluation.characteristics import (
    OutcomeModel,
    seat_distributions,
    simulate_gate,
)

DEFAULTS = GateSettings()


@pytest.mark.parametrize("players", [2, 3, 4])
def test_equal_weaker_and_stronger_candidates(players):
    equal = simulate_gate(DEFAULTS, 0.0, players, runs=3000, seed=players)
    weaker = simulate_gate(DEFAULTS, -50.0, players, runs=2000, seed=10 + players)
    stronger = simulate_gate(DEFAULTS, 100.0, players, runs=2000, seed=20 + players)
    assert equal.pass_rate <= DEFAULTS.alpha
    assert weaker.pass_rate <= DEFAULTS.alpha / 10
    assert stronger.pass_rate >= 1 - DEFAULTS.beta
    # Clear cases stop early; none plays past the maximum.
    assert weaker.mean_games < equal.mean_games <= DEFAULTS.max_games + players
    assert stronger.mean_games < DEFAULTS.max_games / 2


@pytest.mark.parametrize("players", [2, 4])
def test_looking_after_every_few_games_keeps_alpha(players):
    eager = GateSettings(batch_games=4)
    assert simulate_gate(eager, 0.0, players, runs=2500, seed=5).pass_rate <= eager.alpha


@pytest.mark.parametrize("players", [2, 3, 4])
@pytest.mark.parametrize("elo", [-200.0, 0.0, 35.0, 300.0])
def test_simulated_candidates_have_the_elo_they_are_given(players, elo):
    tables = seat_distributions(elo, players, OutcomeModel(tie_rate=0.1))
    assert np.allclose(tables.sum(axis=1), 1.0)
    mean = (tables @ np.arange(tables.shape[1])).mean() / (2 * (players - 1))
    assert mean == pytest.approx(float(elo_to_score(elo)), abs=1e-9)

