"""The match runner and the simple players, on the tiny k-in-a-row game.

Checks: seats alternate and every game is tallied once per player; random versus random is not
significantly lopsided; search beats random significantly (Wilson lower bound > 0.5) while a
1-simulation search against a perfect player does not; results do not depend on how many
games run in lockstep; 3-player matches, draws and the move cap are tallied; the policy player
plays its prior's best move.
"""

from __future__ import annotations

import numpy as np

from ringrift.players import PolicyPlayer, RandomPlayer, SearchPlayer, play_match
from ringrift.search import GumbelConfig, UniformEvaluator, run_task
from tests.utils import tiny_game
from tests.utils.evaluators import HashEvaluator, SolverEvaluator


def test_random_vs_random_is_balanced_and_fully_tallied():
    result = play_match([RandomPlayer("a"), RandomPlayer("b")], tiny_game.initial_state,
                        tiny_game, 60, seed=3)
    a, b = result.records
    assert a.games == b.games == 60
    assert a.wins == b.losses and a.draws == b.draws
    low, high = a.interval
    assert low < 0.5 < high
    assert result.moves == sum(result.lengths) and result.truncated == 0


def test_search_beats_random_significantly():
    search = SearchPlayer(UniformEvaluator(), tiny_game, GumbelConfig(simulations=64))
    result = play_match([search, RandomPlayer()], tiny_game.initial_state, tiny_game, 40, seed=1)
    assert result.records[0].interval[0] > 0.5


def test_weak_search_does_not_beat_a_perfect_player():
    weak = SearchPlayer(UniformEvaluator(), tiny_game, GumbelConfig(simulations=1), name="weak")
    perfect = SearchPlayer(SolverEvaluator(), tiny_game, GumbelConfig(simulations=16),
                           name="perfect")
    result = play_match([weak, perfect], tiny_game.initial_state, tiny_game, 20, seed=0)
    assert result.records[0].wins == 0
    assert result.records[0].interval[0] < 0.5


def test_results_do_not_depend_on_concurrency():
    def run(concurrency):
        players = [SearchPlayer(HashEvaluator(), tiny_game, GumbelConfig(simulations=8)),
                   RandomPlayer()]
        result = play_match(players, tiny_game.initial_state, tiny_game, 12, seed=5,
                            concurrency=concurrency)
        return [(r.wins, r.draws, r.losses) for r in result.records], result.lengths

    assert run(1) == run(5) == run(None)


def test_three_player_match_and_move_cap():
    def new_game():
        return tiny_game.initial_state(rows=4, cols=4, num_players=3, bookkeeping=True)

    players = [RandomPlayer("a"), RandomPlayer("b"), RandomPlayer("c")]
    result = play_match(players, new_game, tiny_game, 9, seed=2)
    assert all(r.games == 9 for r in result.records)
    assert sum(r.wins for r in result.records) + result.records[0].draws >= 1
    capped = play_match(players, new_game, tiny_game, 3, seed=2, max_moves=4)
    assert capped.truncated == 3
    assert all(r.draws == 3 for r in capped.records)


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
