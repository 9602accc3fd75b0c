"""Proof that the core learns: after one round of self-play and training, the model wins.

With fixed seeds and a tiny budget on square8 2-player: self-play games with search over a
uniform evaluator are written to a shard, a ``tiny`` network is trained on it, and the trained
network, playing with a small Gumbel search, must beat the random player significantly
(95% lower bound of its score over 0.5). The same test can fail, and is checked to: the
untrained network of the same seed under the same search does *not* beat random significantly
(its random values mislead the search), so what wins is what training put into the weights.

Figures measured on the shared 2-core machine are in the report of the change that added it;
it takes a few minutes of CPU (more on a cold numba cache of the engine).
"""

from __future__ import annotations

import pytest
import torch

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION, Encoder
from ringrift.evaluation import MatchOptions, MatchPlan, play_match
from ringrift.models import build_model, load_checkpoint
from ringrift.players import RandomPlayer, SearchPlayer
from ringrift.search import GumbelConfig, UniformEvaluator
from ringrift.search.network import NetworkEvaluator
from ringrift.selfplay import SelfPlaySettings, play_games
from ringrift.selfplay.samples import write_games_shard
from ringrift.training.trainer import TrainSettings, train
from tests.utils import engine

pytestmark = pytest.mark.slow

CONFIG = GameConfig("square8", 2)
SELFPLAY_GAMES = 32
SIMULATIONS = 16
TRAIN_STEPS = 400
EVAL_GAMES = 40


def win_record(evaluator, rules):
    player = SearchPlayer(evaluator, rules, GumbelConfig(simulations=SIMULATIONS), name="model")
    plan = MatchPlan.from_games(2, 1, batch_games=EVAL_GAMES, max_games=EVAL_GAMES)
    return play_match(plan, player, RandomPlayer(), engine.new_game(), rules,
                      options=MatchOptions(max_moves=600)).summary()


def test_trained_model_beats_random_and_untrained_does_not(tmp_path):
    torch.set_num_threads(1)
    rules = engine.rules()
    encoder = Encoder.for_config(CONFIG)
    games = play_games(engine.new_game(), rules, UniformEvaluator(), SELFPLAY_GAMES,
                       SelfPlaySettings(GumbelConfig(simulations=SIMULATIONS), max_moves=600),
                       seed=0).games
    assert write_games_shard(tmp_path / "gen1.npz", games, encoder) > 0
    train([tmp_path / "gen1.npz"], tmp_path / "model.pt", config=CONFIG, preset="tiny",
          settings=TrainSettings(steps=TRAIN_STEPS, batch_size=128, seed=0), resume=False,
          device="cpu")

    loaded = load_checkpoint(tmp_path / "model.pt", config=CONFIG, encoder_version=ENCODER_VERSION)
    trained = win_record(NetworkEvaluator(loaded, encoder, device="cpu"), rules)
    torch.manual_seed(0)
    untrained = win_record(NetworkEvaluator(build_model(CONFIG, "tiny"), encoder, device="cpu"),
                           rules)

    print(f"\ntrained: {trained}\nuntrained: {untrained}")  # figures, shown with pytest -s
    assert trained.interval[0] > 0.5, f"trained: {trained}"
    assert untrained.interval[0] <= 0.5, f"untrained: {untrained}"
