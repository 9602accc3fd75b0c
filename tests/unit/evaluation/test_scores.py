"""Scores by rank and the Elo scale.

Checks: 2-player wins, draws and losses; 3- and 4-player places with shared places split; a
capped game (everyone first) is parity; the scores of a game always sum to N/2 (parity on
average) and match the pairwise reading (fraction of opponents beaten); bad rankings are
refused; Elo and score convert both ways, and the ends are clamped.
"""

from __future__ import annotations

import itertools

import pytest

from ringrift.evaluation import PARITY_SCORE, elo_to_score, rank_scores, score_to_elo
from ringrift.evaluation.scores import MAX_ELO, score_units


@pytest.mark.parametrize(("ranking", "scores"), [
    ((1, 2), [1.0, 0.0]),
    ((1, 1), [0.5, 0.5]),
    ((2, 1, 3), [0.5, 1.0, 0.0]),
    ((1, 1, 3), [0.75, 0.75, 0.0]),
    ((1, 2, 2), [1.0, 0.25, 0.25]),
    ((4, 1, 2, 3), [0.0, 1.0, 2 / 3, 1 / 3]),
    ((1, 2, 2, 4), [1.0, 0.5, 0.5, 0.0]),
    ((1, 2, 2, 2), [1.0, 1 / 3, 1 / 3, 1 / 3]),
    ((1, 1, 1, 1), [0.5, 0.5, 0.5, 0.5]),
])
def test_scores_by_rank_split_shared_places(ranking, scores):
    assert rank_scores(ranking) == pytest.approx(scores)


@pytest.mark.parametrize("players", [2, 3, 4])
def test_scores_are_the_pairwise_results_and_sum_to_parity(players):
    for ranking in itertools.product(range(1, players + 1), repeat=players):
        try:
            scores = rank_scores(ranking)
        except ValueError:
            continue  # not a competition ranking
        assert sum(scores) == pytest.approx(players * PARITY_SCORE)
        for seat, score in enumerate(scores):
            pairwise = [1.0 if ranking[seat] < ranking[other] else
                        0.5 if ranking[seat] == ranking[other] else 0.0
                        for other in range(players) if other != seat]
            assert score == pytest.approx(sum(pairwise) / len(pairwise))
        assert all(isinstance(units, int) for units in score_units(ranking))


def test_bad_rankings_are_refused():
    with pytest.raises(ValueError):
        rank_scores((1, 3))
    with pytest.raises(ValueError):
        rank_scores((1,))


def test_elo_and_score_convert_both_ways():
    assert elo_to_score(0) == pytest.approx(0.5)
    assert elo_to_score(400) == pytest.approx(10 / 11)
    for elo in (-500.0, -30.0, 0.0, 42.0, 800.0):
        assert score_to_elo(float(elo_to_score(elo))) == pytest.approx(elo)
    assert score_to_elo(1.0) == MAX_ELO and score_to_elo(0.0) == -MAX_ELO
