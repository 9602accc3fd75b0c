"""Fixtures of the training tests: small real shards from seeded random play on square8, and
training windows over them (row files in a per-test cache)."""

from __future__ import annotations

import random
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION, Encoder
from ringrift.game.engine import apply_move, final_ranking, initial_state, legal_moves
from ringrift.training.shards import Sample, ShardMetadata, write_shard
from ringrift.training.targets import ranking_to_values, values_for_mover
from ringrift.training.window import ShardLike, TrainingWindow, open_window

SQUARE8 = GameConfig("square8", 2)

# Two shared cores: one intra-op thread avoids OpenMP spin-waiting against other work,
# which makes tiny convolutions several times slower.
torch.set_num_threads(1)


def random_play_samples(config: GameConfig, games: int, seed: int,
                        max_samples: int = 10_000) -> list[Sample]:
    """Samples of seeded random games: one-hot policy on the move played, ranking values.

    The sparse target lists every legal move (zero for those not played), as self-play's does:
    the trainer normalises the policy over a sample's listed moves (its legal moves).
    """
    encoder = Encoder.for_config(config)
    rng = random.Random(seed)
    samples: list[Sample] = []
    for game in range(games):
        state = initial_state(config)
        pending = []
        while not state.is_terminal and len(pending) < 400:
            moves = legal_moves(state)
            move = rng.choice(moves)
            if len(moves) > 1:
                planes, globals_ = encoder.encode(state)
                indices = encoder.legal_indices(state, moves)
                probs = (indices == encoder.move_to_index(state, move)).astype(np.float32)
                pending.append((planes, globals_, indices, probs, state.current_player))
            state = apply_move(state, move)
        ranks = final_ranking(state) if state.is_terminal else [1] * config.num_players
        values = ranking_to_values(ranks)
        for planes, globals_, indices, probs, player in pending:
            samples.append(Sample(planes, globals_, indices, probs,
                                  values_for_mover(values, player), game_id=f"g{seed}-{game}"))
    return samples[:max_samples]


def damage_member(path: Path, member: str = "planes.npy") -> None:
    """Flip a run of bytes in the middle of one member's compressed data (not its header)."""
    blob = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    middle = info.header_offset + 100 + info.compress_size // 2
    blob[middle:middle + 16] = bytes(b ^ 0xFF for b in blob[middle:middle + 16])
    path.write_bytes(bytes(blob))


def metadata_for(config: GameConfig) -> ShardMetadata:
    encoder = Encoder.for_config(config)
    return ShardMetadata(board_type=config.board_type, num_players=config.num_players,
                         encoder_version=ENCODER_VERSION, policy_size=encoder.policy_size,
                         source_model_ids=("random",))


@pytest.fixture(scope="session")
def square8_samples() -> list[Sample]:
    return random_play_samples(SQUARE8, games=2, seed=3)


@pytest.fixture
def make_shard(tmp_path: Path, square8_samples: list[Sample]) -> Callable[..., Path]:
    def make(name: str = "shard.npz", count: int = 48, start: int = 0) -> Path:
        path = tmp_path / name
        write_shard(path, square8_samples[start:start + count], metadata_for(SQUARE8))
        return path
    return make


@pytest.fixture
def window_of(tmp_path: Path) -> Iterator[Callable[..., TrainingWindow]]:
    """Open a square8 window over shards (cache under the test's directory); closed after."""
    opened: list[TrainingWindow] = []

    def make(*shards: ShardLike, cache: Path | None = None,
             policy_size: int | None = None) -> TrainingWindow:
        window = open_window(list(shards), SQUARE8, cache or tmp_path / "cache",
                             encoder_version=ENCODER_VERSION,
                             policy_size=policy_size or Encoder.for_config(SQUARE8).policy_size)
        opened.append(window)
        return window

    yield make
    for window in opened:
        window.close()
