"""The gate's settings and decisions, and gated matches on the tiny game.

Checks: bad settings are refused with the setting named; a decision on a tally carries the
verdict, LLR, bounds, hypotheses, counts and Elo interval, and needs complete rounds; an
inconclusive result is rejected unless configured otherwise; a strong player passes the gate early and a player equal to
its opponent never passes; a gate match killed after some games and resumed from them plays
only the missing games and reaches the same decision on the same games.
"""

from __future__ import annotations

import pytest

from ringrift.errors import ConfigurationError
from ringrift.evaluation import (
    GameResult,
    GateSettings,
    MatchTally,
    Verdict,
    decide,
    play_gate_match,
)
from ringrift.players import RandomPlayer, SearchPlayer
from ringrift.search import GumbelConfig, UniformEvaluator
from tests.utils import tiny_game


def pairs(won, split, lost):
    """A 2-player tally of ``won`` pairs won twice, ``split`` 1-1 and ``lost`` lost twice."""
    results, index = [], 0
    for rankings in [((1, 2), (2, 1))] * won + [((1, 2), (1, 2))] * split + [((2, 1), (1, 2))] * lost:
        for seat, ranking in enumerate(rankings):
            ids = ("cand", "opp") if seat == 0 else ("opp", "cand")
            results.append(GameResult(index, index // 2, seat, ids, ranking, 30))
            index += 1
    return MatchTally(2, results)


@pytest.mark.parametrize(("field", "value"), [("elo1", 0.0), ("alpha", 0.0), ("beta", 0.6),
                                              ("batch_games", 0), ("max_games", 10)])
def test_bad_settings_name_the_setting(field, value):
    with pytest.raises(ConfigurationError, match=field):
        GateSettings(**{field: value, "batch_games": 32} if field != "batch_games"
                     else {field: value})


def test_decisions_carry_their_statistics():
    settings = GateSettings(batch_games=8, max_games=100)
    strong = decide(settings, pairs(28, 10, 2), rounds=40)
    assert strong.verdict is Verdict.PASS and strong.passed and strong.final
    assert strong.llr >= strong.upper_bound == pytest.approx(settings.bounds[1])
    assert (strong.elo0, strong.elo1, strong.alpha, strong.beta) == (0.0, 50.0, 0.05, 0.1)
    assert strong.summary.pentanomial == {"LL": 2, "LD": 0, "DD+WL": 10, "WD": 0, "WW": 28}
    estimate = strong.summary.estimate
    assert estimate.elo_low < estimate.elo < estimate.elo_high and strong.games == 80
    assert strong.max_games == 100
    assert "sprt pass: LLR" in strong.describe() and "pentanomial 2-0-10-0-28" in strong.describe()

    early = decide(settings, pairs(3, 1, 0), rounds=4)
    assert early.verdict is Verdict.CONTINUE and not early.passed and not early.final
    weak = decide(settings, pairs(2, 10, 28), rounds=40)
    assert weak.verdict is Verdict.FAIL and not weak.passed
    with pytest.raises(ValueError, match="complete"):
        decide(settings, pairs(3, 1, 0), rounds=8)


def test_inconclusive_is_rejected_unless_configured():
    close = pairs(9, 14, 9)
    assert decide(GateSettings(batch_games=8, max_games=64), close, 32).verdict is (
        Verdict.INCONCLUSIVE)
    assert not decide(GateSettings(batch_games=8, max_games=64), close, 32).passed
    assert decide(GateSettings(batch_games=8, max_games=64, promote_inconclusive=True),
                  close, 32).passed



def strong_and_random():
    return (SearchPlayer(UniformEvaluator(), tiny_game, GumbelConfig(simulations=32),
                         name="search"), RandomPlayer())


def test_a_strong_player_passes_early_and_an_equal_one_does_not():
    settings = GateSettings(batch_games=16, max_games=200)
    search, random = strong_and_random()
    decisions = []
    run = play_gate_match(settings, settings.plan(2, 1), search, random,
                          tiny_game.initial_state, tiny_game, on_batch=decisions.append)
    assert run.decision.passed and run.decision.games < 200
    assert [d.final for d in decisions] == [False] * (len(decisions) - 1) + [True]
    assert [r.index for r in run.results] == list(range(run.decision.games))

    equal = play_gate_match(settings, settings.plan(2, 2), RandomPlayer("a"), RandomPlayer("b"),
                            tiny_game.initial_state, tiny_game)
    assert not equal.decision.passed
    with pytest.raises(ValueError, match="settings.plan"):
        play_gate_match(settings, GateSettings().plan(2, 2), RandomPlayer("a"),
                        RandomPlayer("b"), tiny_game.initial_state, tiny_game)


def test_a_killed_gate_match_resumes_from_its_games():
    settings = GateSettings(batch_games=8, max_games=200)
    plan = settings.plan(2, 4)
    search, random = strong_and_random()
    whole = play_gate_match(settings, plan, search, random, tiny_game.initial_state, tiny_game)
    assert whole.decision.games > 8
    stored: list[GameResult] = []

    class Killed(Exception):
        pass

    def store(result: GameResult) -> None:
        stored.append(GameResult.from_dict(result.to_dict()))
        if len(stored) == 11:  # mid-way through the second batch
            raise Killed

    with pytest.raises(Killed):
        play_gate_match(settings, plan, *strong_and_random(), tiny_game.initial_state,
                        tiny_game, on_game=store)
    replayed = []
    resumed = play_gate_match(settings, plan, *strong_and_random(), tiny_game.initial_state,
                              tiny_game, played=stored, on_game=replayed.append)
    assert not {r.index for r in replayed} & {r.index for r in stored}
    assert resumed.decision == whole.decision
    assert [(r.index, r.ranking) for r in resumed.results] == [
        (r.index, r.ranking) for r in whole.results]
