"""Playing scheduled games and whole matches on the tiny k-in-a-row game.

Checks: every scheduled game is played once and reported with its seats, ranking and moves;
random against random is not significantly lopsided; search beats random significantly and
a 1-simulation search loses significantly to a solver-driven one; results depend neither on
how many games run in lockstep nor on being played in pieces (a resumed match gives the same
games); ``on_game`` sees every game; 3-player matches and the move cap are tallied; the policy
player plays its prior's best move.
"""

from __future__ import annotations

import numpy as np

from ringrift.evaluation import MatchOptions, MatchPlan, play_games, play_match
from ringrift.players import PolicyPlayer, RandomPlayer, SearchPlayer
from ringrift.search import GumbelConfig, UniformEvaluator, run_task
from tests.utils import tiny_game
from tests.utils.evaluators import HashEvaluator, SolverEvaluator


def plan(games, players=2, seed=0):
    return MatchPlan.from_games(players, seed, batch_games=games, max_games=games)


def test_random_vs_random_is_balanced_and_fully_reported():
    schedule = plan(60, seed=3)
    results = play_games([schedule.game(i) for i in range(60)], RandomPlayer("a"),
                         RandomPlayer("b"), tiny_game.initial_state, tiny_game)
    assert [r.index for r in results] == list(range(60))
    for r in results:
        assert r.players[r.candidate_seat] == "a" and r.players.count("b") == 1
        assert r.length == len(r.moves) and not r.truncated
    summary = play_match(schedule, RandomPlayer("a"), RandomPlayer("b"),
                         tiny_game.initial_state, tiny_game).summary()
    assert summary.games == 60 and summary.wins + summary.draws + summary.losses == 60
    assert summary.interval[0] < 0.5 < summary.interval[1]


def test_search_beats_random_significantly():
    search = SearchPlayer(UniformEvaluator(), tiny_game, GumbelConfig(simulations=64))
    summary = play_match(plan(40, seed=1), search, RandomPlayer(), tiny_game.initial_state,
                         tiny_game).summary()
    assert summary.interval[0] > 0.5


def test_weak_search_does_not_beat_a_perfect_player():
    weak = SearchPlayer(UniformEvaluator(), tiny_game, GumbelConfig(simulations=1), name="weak")
    perfect = SearchPlayer(SolverEvaluator(), tiny_game, GumbelConfig(simulations=16),
                           name="perfect")
    summary = play_match(plan(20), weak, perfect, tiny_game.initial_state, tiny_game).summary()
    # Gumbel noise at 16 simulations still lets the solver's search slip now and then.
    assert summary.wins <= 2 and summary.interval[1] < 0.5


def test_results_depend_on_neither_concurrency_nor_resumption():
    def players():
        return SearchPlayer(HashEvaluator(), tiny_game, GumbelConfig(simulations=8)), RandomPlayer()

    schedule = plan(12, seed=5)

    def full(concurrency):
        candidate, opponent = players()
        tally = play_match(schedule, candidate, opponent, tiny_game.initial_state, tiny_game,
                           options=MatchOptions(concurrency=concurrency))
        return sorted((r.index, r.ranking, r.length) for games in tally.complete_rounds()
                      for r in games)

    assert full(1) == full(5) == full(None)
    candidate, opponent = players()
    first = play_games([schedule.game(i) for i in (0, 3, 7)], candidate, opponent,
                       tiny_game.initial_state, tiny_game)
    seen = []
    resumed = play_match(schedule, *players(), tiny_game.initial_state, tiny_game,
                         played=first, on_game=seen.append)
    assert sorted(r.index for r in seen) == [i for i in range(12) if i not in (0, 3, 7)]
    assert sorted((r.index, r.ranking, r.length) for games in resumed.complete_rounds()
                  for r in games) == full(4)


def test_three_player_match_and_move_cap():
    def new_game():
        return tiny_game.initial_state(rows=4, cols=4, num_players=3, bookkeeping=True)

    summary = play_match(plan(9, players=3, seed=2), RandomPlayer("a"), RandomPlayer("b"),
                         new_game, tiny_game).summary()
    assert summary.games == 9 and sum(summary.histogram) == 9
    capped = play_match(plan(3, players=3, seed=2), RandomPlayer("a"), RandomPlayer("b"),
                        new_game, tiny_game, options=MatchOptions(max_moves=4))
    [games] = capped.complete_rounds()
    assert all(r.truncated and r.ranking == (1, 1, 1) and r.length == 4 for r in games)
    assert capped.summary().score == 0.5 and capped.summary().draws == 3


def test_policy_player_plays_its_best_prior():
    evaluator = HashEvaluator()
    state = tiny_game.initial_state()
    moves = tiny_game.legal_moves(state)
    [evaluation] = evaluator.evaluate([state], [moves])
    chosen = run_task(PolicyPlayer(evaluator).choose(state, moves, np.random.default_rng(0)))
    assert chosen == moves[int(np.argmax(evaluation.priors))]
    sampled = {run_task(PolicyPlayer(evaluator, temperature=1.0).choose(
        state, moves, np.random.default_rng(seed))) for seed in range(30)}
    assert len(sampled) > 1
