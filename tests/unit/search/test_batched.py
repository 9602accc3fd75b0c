"""The lockstep runner: batched and unbatched search agree exactly, and leaves really batch.

Checks: for the same seeds, searches driven one at a time and driven together in lockstep return
identical moves, policies and visit counts (2 and 3 players, forced bookkeeping moves, uniform
and non-uniform evaluators); lockstep makes one evaluator call per tick for all searches; tasks
using different evaluators are answered by their own evaluator; results come back in order; a
rolling ``LockstepPool`` whose tasks join while others run gives each task the same result as
running it alone, and refuses a key already in flight.
"""

from __future__ import annotations

import numpy as np
import pytest

from ringrift.search import (
    GumbelConfig,
    LockstepPool,
    UniformEvaluator,
    gumbel_search,
    run_lockstep,
    run_task,
)
from tests.utils import tiny_game
from tests.utils.evaluators import HashEvaluator


def positions():
    state2 = tiny_game.initial_state()
    state3 = tiny_game.initial_state(rows=4, cols=4, num_players=3, bookkeeping=True)
    states = [state2, state3]
    rng = np.random.default_rng(7)
    for start in (state2, state3):
        state = start
        for _ in range(3):
            moves = tiny_game.legal_moves(state)
            state = tiny_game.apply_move(state, moves[rng.integers(len(moves))])
        states.append(state)
    return states


@pytest.mark.parametrize("evaluator", [UniformEvaluator(), HashEvaluator()])
@pytest.mark.parametrize("interior", ["gumbel", "puct"])
def test_batched_and_unbatched_search_are_identical(evaluator, interior):
    config = GumbelConfig(simulations=20, max_considered_actions=8, interior_selection=interior)
    states = positions()

    def task(state, seed):
        return gumbel_search(state, tiny_game, evaluator, config, np.random.default_rng(seed))

    alone = [run_task(task(state, seed)) for seed, state in enumerate(states)]
    together = run_lockstep([task(state, seed) for seed, state in enumerate(states)])
    for a, b in zip(alone, together, strict=True):
        assert a.action == b.action
        np.testing.assert_array_equal(a.improved_policy, b.improved_policy)
        np.testing.assert_array_equal(a.visit_counts, b.visit_counts)
        np.testing.assert_array_equal(a.root_values, b.root_values)


def test_lockstep_sends_all_leaves_in_one_call_per_tick():
    config = GumbelConfig(simulations=8, max_considered_actions=4)
    single = UniformEvaluator()
    run_task(gumbel_search(tiny_game.initial_state(), tiny_game, single, config,
                           np.random.default_rng(0)))
    shared = UniformEvaluator()
    run_lockstep([gumbel_search(tiny_game.initial_state(), tiny_game, shared, config,
                                np.random.default_rng(seed)) for seed in range(10)])
    assert shared.positions_evaluated == 10 * single.positions_evaluated
    assert shared.calls == single.calls


def test_each_task_is_answered_by_its_own_evaluator_and_results_keep_order():
    config = GumbelConfig(simulations=8)
    first, second = UniformEvaluator(), UniformEvaluator()
    states = positions()[:2]
    done: list[int] = []
    results = run_lockstep(
        [gumbel_search(states[0], tiny_game, first, config, np.random.default_rng(0)),
         gumbel_search(states[1], tiny_game, second, config, np.random.default_rng(0))],
        on_done=lambda index, _result: done.append(index))
    assert sorted(done) == [0, 1]
    assert results[0].moves == tiny_game.legal_moves(states[0])
    assert results[1].moves == tiny_game.legal_moves(states[1])
    assert first.positions_evaluated == results[0].evaluations
    assert second.positions_evaluated == results[1].evaluations


def test_rolling_pool_tasks_joining_late_get_their_own_results():
    config = GumbelConfig(simulations=12, max_considered_actions=4)
    evaluator = HashEvaluator()
    states = positions()

    def task(index):
        return gumbel_search(states[index % len(states)], tiny_game, evaluator, config,
                             np.random.default_rng(index))

    alone = {index: run_task(task(index)) for index in range(8)}
    pool: LockstepPool[int, object] = LockstepPool()
    started, results, ticks = 0, {}, 0
    while len(results) < 8:
        # Two in flight at a time: a new task joins each time one finishes.
        while len(pool) < 2 and started < 8:
            pool.add(started, task(started))
            started += 1
        for key, result in pool.step():
            results[key] = result
        ticks += 1
    assert ticks > 1 and pool.evaluator_calls <= ticks
    assert pool.positions_evaluated == sum(r.evaluations for r in alone.values())
    for index, result in results.items():
        assert result.action == alone[index].action
        np.testing.assert_array_equal(result.improved_policy, alone[index].improved_policy)
    pool.add("x", task(0))
    with pytest.raises(ValueError, match="already in flight"):
        pool.add("x", task(1))
