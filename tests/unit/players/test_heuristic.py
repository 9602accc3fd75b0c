"""The heuristic player on the real engine (square8).

Checks: the evaluation is zero-sum between the two players of a 2-player game; it scores a
finished game as a win or a loss; the heuristic player beats the random player significantly;
and it plays only legal moves in 3- and 4-player games.
"""

from __future__ import annotations

import numpy as np
import pytest

from ringrift.evaluation import MatchPlan, play_match
from ringrift.players import RandomPlayer
from ringrift.players.heuristic import HeuristicPlayer, evaluate_position
from tests.utils import engine


def test_evaluation_is_zero_sum_for_two_players():
    rules = engine.rules()
    for seed in range(5):
        state = engine.random_position(plies=20 + 10 * seed, seed=seed)
        if state.is_terminal:
            continue
        first = evaluate_position(state, 1, rules)
        second = evaluate_position(state, 2, rules)
        assert first == pytest.approx(-second)


def test_finished_game_scores_win_and_loss():
    rules = engine.rules()
    state = engine.random_position(plies=10_000, seed=3)
    assert state.is_terminal
    ranking = rules.final_ranking(state)
    winner = ranking.index(1) + 1
    assert evaluate_position(state, winner, rules) > 0
    assert evaluate_position(state, 3 - winner, rules) < 0


@pytest.mark.slow
def test_heuristic_beats_random():
    rules = engine.rules()
    plan = MatchPlan.from_games(2, 11, batch_games=16, max_games=16)
    summary = play_match(plan, HeuristicPlayer(rules), RandomPlayer(), engine.new_game(),
                         rules).summary()
    assert summary.games == 16 and summary.interval[0] > 0.5


@pytest.mark.parametrize("players", [3, 4])
def test_plays_legal_moves_with_more_players(players):
    rules = engine.rules()
    state = engine.random_position(players=players, plies=15, seed=players)
    player = HeuristicPlayer(rules)
    for _ in range(5):
        if state.is_terminal:
            break
        moves = rules.legal_moves(state)
        task = player.choose(state, moves, np.random.default_rng(0))
        with pytest.raises(StopIteration) as done:
            next(task)
        assert done.value.value in moves
        state = rules.apply_move(state, done.value.value)
