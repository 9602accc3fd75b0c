"""Model loading for play: checkpoints by path or artifact, and "no model yet".

Checks: no model is the uniform evaluator with the ``uniform`` id; a checkpoint path and its
artifact reference (read through a given store, or from where its URI points) load the same
network under its model id, and a search player is named by it; a checkpoint of another
config, a corrupt artifact and an unknown baseline are clear errors; the command-line specs
build the right players.
"""

from __future__ import annotations

import numpy as np
import pytest

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION
from ringrift.errors import ConfigurationError
from ringrift.evaluation import (
    HEURISTIC_ID,
    RANDOM_ID,
    UNIFORM_ID,
    baseline_player,
    load_for_play,
    player_for,
    policy_player,
    search_player,
)
from ringrift.models import CheckpointMismatch, build_model, save_checkpoint
from ringrift.players import RandomPlayer, SearchPlayer
from ringrift.players.heuristic import HeuristicPlayer
from ringrift.search import UniformEvaluator
from ringrift.search.network import NetworkEvaluator
from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.storage.errors import ArtifactCorrupt
from tests.utils import engine

CONFIG = GameConfig("hex8", 2)


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "model.pt"
    metadata = save_checkpoint(path, build_model(CONFIG, "tiny"), encoder_version=ENCODER_VERSION)
    return path, metadata.model_id


def test_no_model_is_the_uniform_evaluator():
    model = load_for_play(None, config=CONFIG)
    assert isinstance(model.evaluator, UniformEvaluator) and model.model_id == UNIFORM_ID
    assert model.metadata is None
    assert search_player(model, engine.rules(), 4).name == UNIFORM_ID


def test_a_path_and_its_artifact_load_the_same_model(checkpoint, tmp_path):
    path, model_id = checkpoint
    by_path = load_for_play(path, config=CONFIG, device="cpu")
    store = DirectoryArtifactStore(tmp_path / "store")
    ref = store.put_file(path)
    by_artifact = load_for_play(ref, config=CONFIG, device="cpu", store=store)
    by_uri = load_for_play(ref, config=CONFIG, device="cpu")
    assert by_path.model_id == by_artifact.model_id == by_uri.model_id == model_id
    assert isinstance(by_artifact.evaluator, NetworkEvaluator)
    state = engine.new_game("hex8")()
    moves = engine.rules().legal_moves(state)
    [one] = by_path.evaluator.evaluate([state], [moves])
    [two] = by_artifact.evaluator.evaluate([state], [moves])
    np.testing.assert_allclose(one.priors, two.priors)
    player = search_player(by_path, engine.rules(), 4)
    assert isinstance(player, SearchPlayer) and player.name == model_id
    assert policy_player(by_path).name == f"{model_id}:policy"


def test_clear_errors(checkpoint, tmp_path):
    path, _ = checkpoint
    store = DirectoryArtifactStore(tmp_path / "store")
    ref = store.put_file(path)
    with pytest.raises(CheckpointMismatch, match="num_players"):
        load_for_play(path, config=GameConfig("hex8", 3))
    stored = store.path_for(ref.sha256)
    stored.chmod(0o644)
    stored.write_bytes(b"not a checkpoint")
    with pytest.raises(ArtifactCorrupt):
        load_for_play(ref, config=CONFIG)
    with pytest.raises(ConfigurationError, match="unknown baseline"):
        baseline_player("grandmaster", engine.rules())


def test_command_line_specs(checkpoint):
    path, model_id = checkpoint
    rules = engine.rules()
    assert isinstance(player_for(RANDOM_ID, config=CONFIG, rules=rules, simulations=4),
                      RandomPlayer)
    assert isinstance(player_for(HEURISTIC_ID, config=CONFIG, rules=rules, simulations=4),
                      HeuristicPlayer)
    assert player_for(UNIFORM_ID, config=CONFIG, rules=rules, simulations=4).name == UNIFORM_ID
    assert player_for(str(path), config=CONFIG, rules=rules, simulations=4,
                      device="cpu").name == model_id
