"""Self-play on square8 into shards and game records, read back with the training library.

Checks: a shard of two real games holds one sample per searched position, with policy indices
equal to the encoder's indices of the legal moves, probabilities summing to 1, values of the
final ranking rotated to the mover; truncated games give no samples; the JSONL game records
replay move by move to the same final position and winner.
"""

from __future__ import annotations

import numpy as np
import pytest

from ringrift.configs import GameConfig
from ringrift.encoding import Encoder
from ringrift.search import GumbelConfig, UniformEvaluator
from ringrift.selfplay import SelfPlaySettings, play_games
from ringrift.selfplay.samples import game_samples, write_game_records, write_games_shard
from ringrift.training.shards import read_shard
from ringrift.training.targets import ranking_to_values
from tests.utils import engine

CONFIG = GameConfig("square8", 2)


@pytest.fixture(scope="module")
def games():
    batch = play_games(engine.new_game(), engine.rules(), UniformEvaluator(), 2,
                       SelfPlaySettings(GumbelConfig(simulations=4, max_considered_actions=4)),
                       seed=0)
    return batch.games


def test_shard_holds_one_sample_per_decision(games, tmp_path):
    encoder = Encoder.for_config(CONFIG)
    count = write_games_shard(tmp_path / "s.npz", games, encoder)
    data = read_shard(tmp_path / "s.npz", config=CONFIG)
    assert count == len(data) == sum(len(game.decisions) for game in games)
    assert data.metadata.game_ids == tuple(game.game_id for game in games)
    row = 0
    for game in games:
        outcome = ranking_to_values(game.ranking)
        for decision in game.decisions:
            indices, probs = data.policy(row)
            np.testing.assert_array_equal(
                indices, encoder.legal_indices(decision.state, decision.moves))
            assert probs.sum() == pytest.approx(1.0, abs=1e-5)
            mover = decision.state.current_player
            assert data.values[row][0] == pytest.approx(outcome[mover - 1])
            row += 1


def test_truncated_games_give_no_samples():
    batch = play_games(engine.new_game(), engine.rules(), UniformEvaluator(), 1,
                       SelfPlaySettings(GumbelConfig(simulations=2), max_moves=10), seed=0)
    assert batch.games[0].truncated
    assert game_samples(batch.games[0], Encoder.for_config(CONFIG)) == []


def test_game_records_replay(games, tmp_path):
    from ringrift.game.record import iter_jsonl

    assert write_game_records(tmp_path / "g.jsonl", games, model_id=None) == len(games)
    rules = engine.rules()
    for record, game in zip(iter_jsonl(tmp_path / "g.jsonl"), games, strict=True):
        state = engine.new_game()()
        for move in record.moves:
            state = rules.apply_move(state, move)
        assert state.is_terminal
        assert state.winner == game.final_state.winner
        assert tuple(rules.final_ranking(state)) == game.ranking
