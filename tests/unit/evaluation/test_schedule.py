"""Match schedules: rounds, seats, seeds and batches, all a function of the game index.

Checks: in every round the candidate holds every seat once; 2-player pairs share a seed and
3-4 player games each have their own; sizes in games round up to whole rounds; batches cover
the match exactly once; a resumed match owes exactly the missing indices; the baseline ladder
and when it is due; bad sizes are refused.
"""

from __future__ import annotations

import pytest

from ringrift.errors import ConfigurationError
from ringrift.evaluation import (
    HEURISTIC_ID,
    RANDOM_ID,
    MatchPlan,
    baseline_ladder,
    baselines_due,
)
from ringrift.evaluation.schedule import CANDIDATE, OPPONENT


@pytest.mark.parametrize("players", [2, 3, 4])
def test_each_round_puts_the_candidate_in_every_seat(players):
    plan = MatchPlan.from_games(players, 7, batch_games=10, max_games=40)
    assert plan.max_games % players == 0 and plan.max_games >= 40
    for round_ in range(plan.max_rounds):
        games = [plan.game(round_ * players + k) for k in range(players)]
        assert {game.round for game in games} == {round_}
        assert sorted(game.candidate_seat for game in games) == list(range(players))
        for game in games:
            assert game.seating.count(CANDIDATE) == 1
            assert game.seating.count(OPPONENT) == players - 1
            assert game.seating[game.candidate_seat] == CANDIDATE
    assert plan.game(5) == MatchPlan.from_games(players, 7, batch_games=10, max_games=40).game(5)


def test_pairs_share_a_seed_and_larger_games_do_not():
    pairs = MatchPlan(2, 3, rounds_per_batch=4, max_rounds=8)
    assert pairs.game(4).seed == pairs.game(5).seed == (3, 2)
    assert pairs.game(5).seed != pairs.game(6).seed
    four = MatchPlan(4, 3, rounds_per_batch=4, max_rounds=8)
    assert len({four.game(index).seed for index in range(32)}) == 32


def test_batches_cover_the_match_once_and_resume_owes_the_missing_games():
    plan = MatchPlan.from_games(3, 0, batch_games=7, max_games=20)
    assert (plan.rounds_per_batch, plan.max_rounds, plan.batches) == (3, 7, 3)
    indices = [index for number in range(plan.batches) for index in plan.batch(number)]
    assert indices == list(range(plan.max_games))
    assert [plan.rounds_after_batch(number) for number in range(plan.batches)] == [3, 6, 7]
    assert plan.missing(plan.batch(1), played=[9, 11, 12, 40]) == [10, 13, 14, 15, 16, 17]
    with pytest.raises(ValueError):
        plan.game(plan.max_games)


def test_ladder_and_when_it_is_due():
    assert baseline_ladder(None) == [RANDOM_ID, HEURISTIC_ID]
    assert baseline_ladder("rr-first") == [RANDOM_ID, HEURISTIC_ID, "rr-first"]
    due = [n for n in range(1, 13) if baselines_due(n, 4)]
    assert due == [1, 4, 8, 12]
    assert baselines_due(7, 4, last=True)
    with pytest.raises(ConfigurationError):
        baselines_due(3, 0)


def test_bad_sizes_are_refused():
    with pytest.raises(ConfigurationError):
        MatchPlan.from_games(2, 0, batch_games=0, max_games=10)
    with pytest.raises(ConfigurationError):
        MatchPlan(5, 0, rounds_per_batch=1, max_rounds=1)
    with pytest.raises(ConfigurationError, match="seed"):
        MatchPlan(2, -1, rounds_per_batch=1, max_rounds=1)
