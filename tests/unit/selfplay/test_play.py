"""Self-play games on the tiny k-in-a-row game (2 and 3 players, with bookkeeping moves).

Checks: only positions with a choice are searched and recorded, each with a policy over its
legal moves that sums to 1; the recorded move list replays to the recorded result; games are
identical whatever the concurrency; the move cap marks games truncated.
"""

from __future__ import annotations

from ringrift.search import GumbelConfig, UniformEvaluator
from ringrift.selfplay import SelfPlaySettings, play_games
from tests.utils import tiny_game


def three_player_game():
    return tiny_game.initial_state(rows=4, cols=4, num_players=3, bookkeeping=True)


def test_decisions_are_searched_positions_with_policies():
    batch = play_games(three_player_game, tiny_game, UniformEvaluator(), 4,
                       SelfPlaySettings(GumbelConfig(simulations=8)), seed=0)
    assert len(batch.games) == 4
    for game in batch.games:
        assert len(game.decisions) < len(game.moves)  # end_turn moves are never searched
        for decision in game.decisions:
            assert decision.moves == tiny_game.legal_moves(decision.state)
            assert len(decision.moves) > 1
            assert abs(decision.policy.sum() - 1.0) < 1e-9
        assert game.evaluations > 0
    assert batch.positions == sum(len(game.moves) for game in batch.games)


def test_recorded_moves_replay_to_the_recorded_result():
    batch = play_games(tiny_game.initial_state, tiny_game, UniformEvaluator(), 6,
                       SelfPlaySettings(GumbelConfig(simulations=8)), seed=1)
    for game in batch.games:
        state = tiny_game.initial_state()
        for move in game.moves:
            state = tiny_game.apply_move(state, move)
        assert state.is_terminal and not game.truncated
        assert tuple(tiny_game.final_ranking(state)) == game.ranking
        assert state == game.final_state


def test_games_do_not_depend_on_concurrency():
    def moves(concurrency):
        batch = play_games(tiny_game.initial_state, tiny_game, UniformEvaluator(), 5,
                           SelfPlaySettings(GumbelConfig(simulations=8), concurrency=concurrency),
                           seed=9)
        return [game.moves for game in batch.games]

    assert moves(1) == moves(5)


def test_move_cap_truncates():
    batch = play_games(tiny_game.initial_state, tiny_game, UniformEvaluator(), 2,
                       SelfPlaySettings(GumbelConfig(simulations=4), max_moves=3), seed=0)
    assert all(game.truncated and len(game.moves) == 3 for game in batch.games)
    assert all(game.ranking == (1, 1) for game in batch.games)
