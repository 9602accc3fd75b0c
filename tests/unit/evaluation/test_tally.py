"""Tallies of match results: pentanomial pairs, 3-4 player score histograms, records.

Checks: 2-player pairs land in the pentanomial bin of their total (LL ... WW) whichever seat
the candidate held; 3- and 4-player games land in the bin of their score by rank; an
incomplete round is not counted until it is complete; a game counted twice with another
result is refused (the same result again is harmless); the record counts first places alone
as wins and shared first places as draws; stored results read back equal.
"""

from __future__ import annotations

import pytest

from ringrift.evaluation import GameResult, MatchTally


def result(index, players, candidate_seat, ranking):
    ids = tuple("cand" if seat == candidate_seat else "opp" for seat in range(players))
    return GameResult(index, index // players, candidate_seat, ids, tuple(ranking), 40)


def pair(first_index, first, second):
    """Two games of one pair: the candidate's rankings as (rank in seat 1, rank in seat 2)."""
    one = (1, 2) if first == "W" else (2, 1) if first == "L" else (1, 1)
    two = (2, 1) if second == "W" else (1, 2) if second == "L" else (1, 1)
    return [result(first_index, 2, 0, one), result(first_index + 1, 2, 1, two)]


def test_pairs_are_counted_pentanomially():
    games = (pair(0, "L", "L") + pair(2, "D", "L") + pair(4, "W", "L") + pair(6, "L", "W")
             + pair(8, "D", "D") + pair(10, "W", "D") + pair(12, "W", "W") + pair(14, "W", "W"))
    summary = MatchTally(2, games).summary()
    assert summary.pentanomial == {"LL": 1, "LD": 1, "DD+WL": 3, "WD": 1, "WW": 2}
    assert (summary.wins, summary.draws, summary.losses) == (7, 4, 5)
    assert summary.games == 16 and summary.score == pytest.approx(9 / 16)


def test_larger_games_are_counted_by_score():
    four = [result(0, 4, 0, (1, 2, 3, 4)), result(1, 4, 1, (1, 2, 3, 4)),
            result(2, 4, 2, (1, 1, 3, 4)), result(3, 4, 3, (1, 2, 2, 2))]
    summary = MatchTally(4, four).summary()
    # Scores 1, 2/3, 1/3 (third alone), 1/3 (shared 2nd-4th) in sixths: bins 6, 4, 2, 2.
    assert summary.histogram == (0, 0, 2, 0, 1, 0, 1)
    assert summary.pentanomial is None
    assert summary.score == pytest.approx((1 + 2 / 3 + 1 / 3 + 1 / 3) / 4)
    assert (summary.wins, summary.draws, summary.losses) == (1, 0, 3)


def test_only_complete_rounds_count():
    tally = MatchTally(3, [result(0, 3, 0, (1, 2, 3)), result(1, 3, 1, (2, 1, 3))])
    assert tally.summary().games == 0 and tally.histogram().sum() == 0
    tally.add([result(2, 3, 2, (3, 2, 1)), result(3, 3, 0, (1, 2, 3))])
    assert tally.summary().games == 3 and tally.summary(limit=0).games == 0
    assert tally.played == {0, 1, 2, 3}


def test_a_game_counts_once():
    first = result(0, 2, 0, (1, 2))
    tally = MatchTally(2, [first, first])
    assert tally.played == {0}
    with pytest.raises(ValueError, match="counted already"):
        tally.add([result(0, 2, 0, (2, 1))])
    with pytest.raises(ValueError, match="3-player"):
        tally.add([result(5, 3, 0, (1, 2, 3))])


def test_stored_results_read_back():
    game = GameResult(3, 1, 1, ("a", "b"), (2, 1), 57, truncated=False, moves=("m",) * 57)
    again = GameResult.from_dict(game.to_dict())
    assert again == game and again.moves == ()
    with pytest.raises(ValueError):
        GameResult.from_dict({"index": 1})
    with pytest.raises(ValueError):
        GameResult.from_dict({**game.to_dict(), "candidate_seat": 2})
