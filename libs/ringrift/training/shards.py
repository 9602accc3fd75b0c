"""Training data shards: the one module that writes and reads them.

A shard is an ``.npz`` file (no pickles) holding, for ``N`` samples:

- ``planes`` float32 ``[N, C, H, W]`` and ``globals`` float32 ``[N, G]``: the encoder's
  output for the position, from the point of view of the player to move;
- a sparse policy target (the search's improved policy over the legal moves):
  ``policy_indices`` int64 and ``policy_probs`` float32, ragged, sample ``i``
  owning ``[policy_offsets[i], policy_offsets[i + 1])``. The indices are **every legal
  move** of the position (probability 0 allowed): the trainer normalises the policy over
  them, as inference does over the legal moves;
- ``values`` float32 ``[N, num_players]``: the per-seat value targets from the
  final ranking, seats relative to the player to move (see ``targets``);
- ``game_index`` int32 ``[N]``: the sample's game in ``metadata.game_ids``;
- ``metadata``: UTF-8 JSON (board, players, encoder version, policy size, source
  model ids, game ids, sample count).

Writes are atomic (temporary file, then rename). Reads validate every array
against the metadata and raise :class:`ShardError` naming what is wrong, so a
damaged shard is rejected before it reaches the trainer.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ringrift.configs import GameConfig
from ringrift.storage.atomic import atomic_write
from ringrift.training.errors import ShardError, ShardMismatch

SHARD_FORMAT_VERSION = 1
_ARRAYS = ("planes", "globals", "policy_offsets", "policy_indices", "policy_probs", "values",
           "game_index")


@dataclass(frozen=True)
class ShardMetadata:
    """What a shard holds and where it came from."""

    board_type: str
    num_players: int
    encoder_version: int
    policy_size: int
    source_model_ids: tuple[str, ...] = ()
    """Models whose self-play produced the games (empty for uniform-random play)."""
    game_ids: tuple[str, ...] = ()
    sample_count: int = 0
    created_at: str = ""
    format_version: int = SHARD_FORMAT_VERSION

    @property
    def config(self) -> GameConfig:
        return GameConfig(self.board_type, self.num_players)


@dataclass
class Sample:
    """One training position: encoded input, sparse policy target, per-seat values."""

    planes: np.ndarray
    globals: np.ndarray
    policy_indices: np.ndarray
    policy_probs: np.ndarray
    values: np.ndarray
    game_id: str = ""


@dataclass
class ShardData:
    """The arrays of one or more shards (see the module docstring for each)."""

    planes: np.ndarray
    globals: np.ndarray
    policy_offsets: np.ndarray
    policy_indices: np.ndarray
    policy_probs: np.ndarray
    values: np.ndarray
    game_index: np.ndarray
    metadata: ShardMetadata = field(repr=False)

    def __len__(self) -> int:
        return int(self.planes.shape[0])

    def policy(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The (indices, probabilities) policy target of sample ``row``."""
        lo, hi = int(self.policy_offsets[row]), int(self.policy_offsets[row + 1])
        return self.policy_indices[lo:hi], self.policy_probs[lo:hi]

    @classmethod
    def from_samples(cls, samples: Sequence[Sample], metadata: ShardMetadata) -> ShardData:
        """Pack samples; game ids are collected in order of first appearance."""
        if not samples:
            raise ValueError("a shard needs at least one sample")
        game_ids = list(metadata.game_ids)
        position = {game_id: i for i, game_id in enumerate(game_ids)}
        game_index = np.empty(len(samples), dtype=np.int32)
        for row, sample in enumerate(samples):
            if sample.game_id and sample.game_id not in position:
                position[sample.game_id] = len(game_ids)
                game_ids.append(sample.game_id)
            game_index[row] = position.get(sample.game_id, -1) if sample.game_id else -1
        lengths = np.array([len(s.policy_indices) for s in samples], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return cls(
            planes=np.stack([s.planes for s in samples]).astype(np.float32, copy=False),
            globals=np.stack([s.globals for s in samples]).astype(np.float32, copy=False),
            policy_offsets=offsets,
            policy_indices=np.concatenate([s.policy_indices for s in samples]).astype(np.int64),
            policy_probs=np.concatenate([s.policy_probs for s in samples]).astype(np.float32),
            values=np.stack([s.values for s in samples]).astype(np.float32, copy=False),
            game_index=game_index,
            metadata=replace(metadata, game_ids=tuple(game_ids), sample_count=len(samples)),
        )

    @classmethod
    def concatenate(cls, parts: Sequence[ShardData]) -> ShardData:
        """Join shards of one config into one set of arrays (for a training window)."""
        first = parts[0].metadata
        game_ids: list[str] = []
        game_index = []
        shift = [0]
        for part in parts:
            if part.metadata.config != first.config or (
                    part.metadata.encoder_version != first.encoder_version):
                raise ValueError("cannot join shards of different configs or encoders")
            index = part.game_index.astype(np.int32, copy=True)
            index[index >= 0] += len(game_ids)
            game_index.append(index)
            game_ids.extend(part.metadata.game_ids)
            shift.append(shift[-1] + len(part.policy_indices))
        offsets = [parts[0].policy_offsets[:1]] + [
            part.policy_offsets[1:] + base for part, base in zip(parts, shift[:-1], strict=True)]
        return cls(
            planes=np.concatenate([p.planes for p in parts]),
            globals=np.concatenate([p.globals for p in parts]),
            policy_offsets=np.concatenate(offsets),
            policy_indices=np.concatenate([p.policy_indices for p in parts]),
            policy_probs=np.concatenate([p.policy_probs for p in parts]),
            values=np.concatenate([p.values for p in parts]),
            game_index=np.concatenate(game_index),
            metadata=replace(first, game_ids=tuple(game_ids),
                             source_model_ids=tuple(dict.fromkeys(
                                 m for p in parts for m in p.metadata.source_model_ids)),
                             sample_count=sum(len(p) for p in parts)),
        )


def write_shard(path: str | os.PathLike[str], samples: Sequence[Sample] | ShardData,
                metadata: ShardMetadata) -> ShardMetadata:
    """Validate and write a shard atomically; returns the metadata as written.

    Raises:
        ShardError: the samples are inconsistent (checked as a reader would).
    """
    if isinstance(samples, ShardData):
        data = replace(samples, metadata=replace(
            metadata, game_ids=metadata.game_ids or samples.metadata.game_ids))
    else:
        data = ShardData.from_samples(samples, metadata)
    meta = replace(data.metadata, created_at=datetime.now(UTC).isoformat(),
                   sample_count=len(data))
    data = replace(data, metadata=meta)
    target = Path(path)
    _validate(str(target), data)
    with atomic_write(target) as temp:
        arrays = {name: getattr(data, name) for name in _ARRAYS}
        arrays["metadata"] = np.frombuffer(json.dumps(asdict(meta)).encode(), dtype=np.uint8)
        np.savez_compressed(temp, **arrays)
    return meta


def read_shard(path: str | os.PathLike[str], *, config: GameConfig | None = None,
               encoder_version: int | None = None,
               policy_size: int | None = None) -> ShardData:
    """Read and validate a shard; optionally require a config, encoder and policy size.

    Raises:
        ShardError: missing, unreadable or inconsistent file.
        ShardMismatch: another config, encoder version or policy size than required.
    """
    where = str(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in (*_ARRAYS, "metadata")}
    except FileNotFoundError:
        raise ShardError(where, "no such file") from None
    except KeyError as error:
        raise ShardError(where, f"missing array {error}") from error
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise ShardError(where, f"unreadable ({type(error).__name__}: {error})") from error
    try:
        raw: dict[str, Any] = json.loads(arrays.pop("metadata").tobytes().decode())
        raw["source_model_ids"] = tuple(raw.get("source_model_ids", ()))
        raw["game_ids"] = tuple(raw.get("game_ids", ()))
        meta = ShardMetadata(**raw)
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise ShardError(where, f"metadata malformed: {error}") from error
    if meta.format_version != SHARD_FORMAT_VERSION:
        raise ShardError(where, f"format version {meta.format_version} is not "
                                f"{SHARD_FORMAT_VERSION}")
    data = ShardData(metadata=meta, **arrays)
    _validate(where, data)
    expected = [("config", config, meta.config), ("encoder_version", encoder_version,
                meta.encoder_version), ("policy_size", policy_size, meta.policy_size)]
    for name, want, found in expected:
        if want is not None and want != found:
            raise ShardMismatch(where, name, str(want), str(found))
    return data


def _validate(where: str, data: ShardData) -> None:
    """Check every array against the others and the metadata (see module docstring)."""
    meta = data.metadata
    n = data.planes.shape[0] if data.planes.ndim == 4 else -1
    checks: list[tuple[bool, str]] = [
        (data.planes.ndim == 4 and n > 0, f"planes must be [N, C, H, W], got {data.planes.shape}"),
        (meta.sample_count == n, f"metadata says {meta.sample_count} samples, planes hold {n}"),
        (data.globals.ndim == 2 and data.globals.shape[0] == n, "globals must be [N, G]"),
        (data.values.shape == (n, meta.num_players),
         f"values must be [N, {meta.num_players}], got {data.values.shape}"),
        (data.game_index.shape == (n,), "game_index must be [N]"),
        (data.policy_offsets.shape == (n + 1,), "policy_offsets must be [N + 1]"),
        (data.policy_indices.shape == data.policy_probs.shape
         and data.policy_indices.ndim == 1, "policy indices and probabilities differ in length"),
    ]
    for ok, reason in checks:
        if not ok:
            raise ShardError(where, reason)
    offsets = data.policy_offsets
    lengths = np.diff(offsets)
    if offsets[0] != 0 or offsets[-1] != len(data.policy_indices) or (lengths <= 0).any():
        raise ShardError(where, "policy offsets must start at 0, end at the number of entries "
                                "and give every sample at least one entry")
    indices, probs = data.policy_indices, data.policy_probs
    if indices.min() < 0 or indices.max() >= meta.policy_size:
        raise ShardError(where, f"policy index outside [0, {meta.policy_size})")
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise ShardError(where, "policy probabilities must be finite and non-negative")
    sums = np.add.reduceat(probs.astype(np.float64), offsets[:-1])
    if np.abs(sums - 1.0).max() > 1e-3:
        raise ShardError(where, "a sample's policy probabilities do not sum to 1")
    values = data.values
    if not np.isfinite(values).all() or np.abs(values).max() > 1.0 + 1e-6:
        raise ShardError(where, "value targets must lie in [-1, 1]")
    if not (np.isfinite(data.planes).all() and np.isfinite(data.globals).all()):
        raise ShardError(where, "planes and globals must be finite")
    if data.game_index.max() >= len(meta.game_ids):
        raise ShardError(where, "a sample points past the list of game ids")
