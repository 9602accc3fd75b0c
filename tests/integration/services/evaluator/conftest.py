"""Checkpoints for the evaluator's service tests: an untrained one, and one much stronger
than search over the uniform evaluator.

The strong one is trained once per session the way the loop's first generation is: 64
self-play games of search over the uniform evaluator (4 simulations), 200 steps of the
``tiny`` network on them. Measured on this machine (seeded): it scores 0.81 [0.67, 0.90]
against uniform search at 4 simulations over 32 games, about +255 Elo, for ~35 s of CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION
from ringrift.models import build_model, save_checkpoint
from ringrift.storage.artifacts import ArtifactRef, DirectoryArtifactStore
from tests.fixtures.services import ServiceEnv

CONFIG = GameConfig("square8", 2)


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    model_id: str

    def stored(self, environment: ServiceEnv) -> ArtifactRef:
        """The checkpoint in the services' artifact store (as the trainer puts it)."""
        return DirectoryArtifactStore(environment.directory / "artifacts").put_file(self.path)


@pytest.fixture(scope="session")
def strong_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Checkpoint:
    import torch

    from ringrift.encoding import Encoder
    from ringrift.game import initial_state
    from ringrift.search import GumbelConfig, UniformEvaluator, engine_rules
    from ringrift.selfplay import SelfPlaySettings, play_games
    from ringrift.selfplay.samples import write_games_shard
    from ringrift.training.trainer import TrainSettings, train

    directory = tmp_path_factory.mktemp("strong")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        games = play_games(lambda: initial_state(CONFIG, pie_rule=False), engine_rules(),
                           UniformEvaluator(), 64,
                           SelfPlaySettings(GumbelConfig(simulations=4), max_moves=600),
                           seed=0).games
        write_games_shard(directory / "shard.npz", games, Encoder.for_config(CONFIG))
        result = train([directory / "shard.npz"], directory / "strong.pt", config=CONFIG,
                       preset="tiny", settings=TrainSettings(steps=200, batch_size=128, seed=0),
                       resume=False, device="cpu")
    finally:
        torch.set_num_threads(threads)
    return Checkpoint(Path(result.checkpoint), result.model_id)


@pytest.fixture
def untrained_checkpoint(tmp_path: Path) -> Checkpoint:
    path = tmp_path / "untrained.pt"
    metadata = save_checkpoint(path, build_model(CONFIG, "tiny"), encoder_version=ENCODER_VERSION)
    return Checkpoint(path, metadata.model_id)
