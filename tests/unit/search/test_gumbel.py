"""Gumbel AlphaZero search on the tiny k-in-a-row game.

Checks: search finds a forced win (a fork two plies deep) that a uniform evaluator cannot see,
with both interior selection rules; the improved policy is a distribution over the legal moves;
a seat in a 3-player game takes its own win; a single legal move costs no evaluation; perfect
values make the search play the solver's move; knobs are validated.
"""

from __future__ import annotations

import numpy as np
import pytest

from ringrift.search import GumbelConfig, UniformEvaluator, gumbel_search, run_task
from tests.utils import tiny_game
from tests.utils.evaluators import HashEvaluator, SolverEvaluator

FORK = "xo./x../o.."  # x to move; only (1, 1) wins (a double threat), nothing wins at once


def search(state, evaluator, seed=0, **knobs):
    config = GumbelConfig(**knobs)
    return run_task(gumbel_search(state, tiny_game, evaluator, config,
                                  np.random.default_rng(seed)))


def test_fork_is_not_an_immediate_win():
    state = tiny_game.from_rows(FORK)
    assert tiny_game.winning_moves(state) == [tiny_game.Move("place", 1, 1)]
    assert all(tiny_game.apply_move(state, m).winner is None
               for m in tiny_game.legal_moves(state))


@pytest.mark.parametrize("interior", ["gumbel", "puct"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_search_finds_forced_win_with_uniform_evaluator(interior, seed):
    result = search(tiny_game.from_rows(FORK), UniformEvaluator(), seed=seed,
                    simulations=400, interior_selection=interior)
    assert result.move == tiny_game.Move("place", 1, 1)
    assert int(np.argmax(result.improved_policy)) == result.action


def test_a_tiny_budget_does_not_reliably_find_the_fork():
    # The test above can fail: with one simulation per move, search is a coin toss.
    found = sum(search(tiny_game.from_rows(FORK), UniformEvaluator(), seed=seed,
                       simulations=1).move == tiny_game.Move("place", 1, 1)
                for seed in range(20))
    assert found < 15


@pytest.mark.parametrize("evaluator", [UniformEvaluator(), HashEvaluator()])
def test_improved_policy_is_a_distribution_over_legal_moves(evaluator):
    state = tiny_game.initial_state()
    for seed in range(5):
        result = search(state, evaluator, seed=seed, simulations=24)
        assert result.improved_policy.shape == (len(tiny_game.legal_moves(state)),)
        assert result.improved_policy.sum() == pytest.approx(1.0)
        assert (result.improved_policy > 0).all()
        assert result.visit_counts.sum() == 24
        assert result.moves == tiny_game.legal_moves(state)


def test_each_seat_maximises_its_own_value_with_three_players():
    # 4x4, 3 in a row, player 2 ('o') to move can complete a row at (1, 2); nobody else can.
    state = tiny_game.from_rows("xx../oo../z.../z..x", num_players=3, to_move=2)
    result = search(state, UniformEvaluator(), simulations=64)
    assert result.move == tiny_game.Move("place", 1, 2)
    assert result.root_values[1] == result.root_values.max()


def test_forced_bookkeeping_moves_are_skipped_inside_the_tree():
    state = tiny_game.initial_state(bookkeeping=True)
    evaluator = UniformEvaluator()
    result = search(state, evaluator, simulations=16)
    # Every evaluated leaf needed a decision: the forced end_turn was applied in the tree.
    assert result.evaluations == evaluator.positions_evaluated
    after = tiny_game.apply_move(state, result.move)
    single = search(after, evaluator, simulations=16)
    assert single.move == tiny_game.END_TURN and single.evaluations == 0


def test_perfect_values_give_the_solvers_move():
    for rows in ["xo./x../o..", "x.o/..x/o..", "xxo/o../..."]:
        state = tiny_game.from_rows(rows)
        result = search(state, SolverEvaluator(), simulations=16, gumbel_scale=0.0)
        assert result.move in tiny_game.winning_moves(state)


def test_knobs_are_validated():
    with pytest.raises(ValueError):
        GumbelConfig(simulations=0)
    with pytest.raises(ValueError):
        GumbelConfig(interior_selection="ucb")  # type: ignore[arg-type]
