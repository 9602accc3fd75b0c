"""Bradley-Terry ratings from a match log, checked by simulation.

Checks: one pairing has the closed-form rating (with the virtual draw); the anchor is 0 and
players never connected to it are unrated; the fit is a pure function of the log (order does
not matter); 95% intervals of simulated 2-player ladders hold the true Elo about 95% of the
time; for 3- and 4-player games of equal players the standard errors match the spread of the
fitted ratings across repeated logs (the 3 / (N + 1) weighting; unweighted they would be 15%
and 29% too small); the difference of two ratings has its own standard error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from ringrift.evaluation import RANDOM_ID, elo_to_score, fit_ratings


@dataclass(frozen=True)
class Game:
    players: tuple[str, ...]
    ranking: tuple[int, ...]


def two_player_games(a, b, wins, draws, losses):
    return ([Game((a, b), (1, 2))] * wins + [Game((b, a), (1, 1))] * draws
            + [Game((b, a), (1, 2))] * losses)


def test_one_pairing_has_the_closed_form_rating():
    ratings = fit_ratings(two_player_games("m", RANDOM_ID, 70, 10, 20), prior_draws=1.0)
    expected = (70 + 5 + 0.5) / 101
    assert ratings[RANDOM_ID].elo == 0.0 and ratings[RANDOM_ID].stderr == 0.0
    assert ratings["m"].elo == pytest.approx(-400 * math.log10(1 / expected - 1), abs=1e-6)
    assert ratings["m"].games == 100
    information = 101 * expected * (1 - expected)
    assert ratings["m"].stderr == pytest.approx(400 / math.log(10) / math.sqrt(information))
    low, high = ratings["m"].interval
    assert low < ratings["m"].elo < high


def test_anchor_unrated_players_and_order_do_not_matter():
    log = (two_player_games("a", RANDOM_ID, 30, 0, 10) + two_player_games("b", "a", 20, 5, 15)
           + two_player_games("x", "y", 10, 0, 10))
    ratings = fit_ratings(log)
    assert set(ratings.ratings) == {RANDOM_ID, "a", "b"} and ratings.unrated == ("x", "y")
    shuffled = fit_ratings([log[i] for i in np.random.default_rng(0).permutation(len(log))])
    for player in ratings.ratings:
        assert shuffled[player].elo == pytest.approx(ratings[player].elo)
        assert shuffled[player].stderr == pytest.approx(ratings[player].stderr)
    difference, stderr = ratings.difference("b", "a")
    assert difference == pytest.approx(ratings["b"].elo - ratings["a"].elo)
    assert 0 < stderr < ratings["b"].stderr + ratings["a"].stderr
    assert fit_ratings([]).ratings.keys() == {RANDOM_ID}


def test_two_player_intervals_cover_the_true_elo():
    truth = {RANDOM_ID: 0.0, "heuristic": 150.0, "m1": 250.0, "m2": 300.0}
    schedule = [(RANDOM_ID, "heuristic"), ("heuristic", "m1"), ("m1", "m2"), (RANDOM_ID, "m2")]
    rng = np.random.default_rng(7)
    covered = trials = 0
    for _ in range(150):
        log = []
        for a, b in schedule:
            p = float(elo_to_score(truth[a] - truth[b]))
            wins = int(rng.binomial(200, p))
            log += two_player_games(a, b, wins, 0, 200 - wins)
        ratings = fit_ratings(log, prior_draws=0.1)
        for player in ("heuristic", "m1", "m2"):
            low, high = ratings[player].interval
            covered += low <= truth[player] <= high
            trials += 1
    assert 0.91 <= covered / trials <= 0.985


@pytest.mark.parametrize("players", [3, 4])
def test_multiplayer_standard_errors_match_the_spread(players):
    rng = np.random.default_rng(3)
    fitted, reported = [], []
    for _ in range(300):
        log = []
        for _ in range(100):
            seats = [RANDOM_ID] + ["c"] * (players - 1)
            rng.shuffle(seats)
            # Equal players: a uniformly random order of finish.
            ranking = tuple(int(r) + 1 for r in np.argsort(rng.permutation(players)))
            log.append(Game(tuple(seats), ranking))
        ratings = fit_ratings(log, prior_draws=0.1)
        fitted.append(ratings["c"].elo)
        reported.append(ratings["c"].stderr)
    ratio = float(np.std(fitted) / np.mean(reported))
    assert 0.88 <= ratio <= 1.12
