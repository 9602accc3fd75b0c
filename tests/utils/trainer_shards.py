"""Training shards for the trainer's tests, made in milliseconds, and the events naming them.

The trainer never looks inside a sample, so the shards here hold synthetic ones: random
planes of the encoder's shape, a random set of legal moves with a normalised policy over
them, opposite values for two seats. They are real shards (the library's writer, every
check of its reader passes), put into a real artifact store, and announced by real
``ShardWritten`` events, as the exporter would.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION, Encoder
from ringrift.events.envelope import Event, new_event
from ringrift.events.gen.common.v1.common_pb2 import ArtifactRef as ArtifactRefMessage
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import ShardWritten
from ringrift.storage.artifacts import ArtifactRef, ArtifactStore
from ringrift.training.shards import Sample, ShardMetadata, write_shard


def synthetic_samples(config: GameConfig, count: int, seed: int) -> list[Sample]:
    """``count`` valid samples of ``config`` (one game id per 20 samples)."""
    shape = Encoder.for_config(config).shape
    rng = np.random.default_rng(seed)
    samples = []
    for n in range(count):
        legal = rng.choice(shape.policy_size, size=int(rng.integers(2, 12)), replace=False)
        probs = rng.random(len(legal)).astype(np.float32)
        winner = 1.0 if rng.random() < 0.5 else -1.0
        values = np.full(config.num_players, -winner / max(1, config.num_players - 1),
                         dtype=np.float32)
        values[0] = winner
        samples.append(Sample(
            planes=rng.random((shape.in_channels, shape.height, shape.width), dtype=np.float32),
            globals=rng.random(shape.num_globals, dtype=np.float32),
            policy_indices=legal.astype(np.int64), policy_probs=probs / probs.sum(),
            values=values, game_id=f"g{seed}-{n // 20}"))
    return samples


def write_synthetic_shard(path: Path, config: GameConfig, count: int, seed: int,
                          source_model_ids: tuple[str, ...] = ()) -> Path:
    encoder = Encoder.for_config(config)
    write_shard(path, synthetic_samples(config, count, seed), ShardMetadata(
        board_type=config.board_type, num_players=config.num_players,
        encoder_version=ENCODER_VERSION, policy_size=encoder.policy_size,
        source_model_ids=source_model_ids))
    return path


@dataclass(frozen=True)
class StoredShard:
    """A shard in the store and the event that announces it."""

    shard_id: str
    ref: ArtifactRef
    samples: int
    event: Event[ShardWritten]


def stored_shard(store: ArtifactStore, scratch: Path, config: GameConfig, shard_id: str,
                 samples: int, *, source_model_ids: tuple[str, ...] = ("rr-model",),
                 seed: int | None = None) -> StoredShard:
    """Write a synthetic shard, put it into ``store``, and make its ``ShardWritten``."""
    seed = seed if seed is not None else int(hashlib.sha256(shard_id.encode()).hexdigest()[:8], 16)
    path = write_synthetic_shard(scratch / f"{shard_id}.npz", config, samples, seed,
                                 source_model_ids)
    ref = store.put_file(path)
    path.unlink()
    return StoredShard(shard_id, ref, samples, shard_event(
        config.key, shard_id, samples, uri=ref.uri, sha256=ref.sha256, size=ref.size,
        source_model_ids=source_model_ids))


def shard_event(config_key: str, shard_id: str, samples: int, *, uri: str = "",
                sha256: str = "", size: int = 0, source_model_ids: tuple[str, ...] = ("rr-model",),
                encoder_version: int = ENCODER_VERSION, envelope_config: str | None = None
                ) -> Event[ShardWritten]:
    """A ``ShardWritten`` as the exporter publishes it (the artifact need not exist)."""
    payload = ShardWritten(
        shard_id=shard_id, config_key=config_key,
        shard=ArtifactRefMessage(uri=uri or f"file:///nowhere/{shard_id}",
                                 sha256=sha256 or hashlib.sha256(shard_id.encode()).hexdigest(),
                                 size_bytes=size),
        num_samples=samples, num_games=max(1, samples // 20), encoder_version=encoder_version,
        source_model_ids=list(source_model_ids), first_game_id=f"{shard_id}-first",
        last_game_id=f"{shard_id}-last")
    return new_event(payload, config_key=envelope_config or config_key, producer="exporter")
