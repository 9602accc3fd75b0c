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
damaged shard is rejected before it reaches the trainer. :class:`ShardReader` reads a
shard in chunks of rows (each array decompressed as a stream), so that converting a shard for
the training window holds one chunk at a time; :func:`read_shard` reads it all at once.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ringrift.configs import GameConfig
from ringrift.storage.atomic import atomic_write
from ringrift.training import shard_checks as checks
from ringrift.training.errors import ShardError
from ringrift.training.npz_stream import ArrayStream, NpyFormatError, open_array

SHARD_FORMAT_VERSION = 1
_DTYPES: dict[str, np.dtype] = {
    "planes": np.dtype(np.float32), "globals": np.dtype(np.float32),
    "policy_offsets": np.dtype(np.int64), "policy_indices": np.dtype(np.int64),
    "policy_probs": np.dtype(np.float32), "values": np.dtype(np.float32),
    "game_index": np.dtype(np.int32)}
_ARRAYS = tuple(_DTYPES)
_PER_SAMPLE = ("planes", "globals", "values", "game_index")  # the others are ragged
_CHUNK_BYTES = 32 << 20
_READ_ERRORS = (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error, NpyFormatError)


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
    """The arrays of a shard, or of a chunk of its rows (see the module docstring for each)."""

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
    checks.validate(str(target), data)
    with atomic_write(target) as temp:
        arrays = {name: getattr(data, name) for name in _ARRAYS}
        arrays["metadata"] = np.frombuffer(json.dumps(asdict(meta)).encode(), dtype=np.uint8)
        np.savez_compressed(temp, **arrays)
    return meta


def read_shard(path: str | os.PathLike[str], *, config: GameConfig | None = None,
               encoder_version: int | None = None, policy_size: int | None = None) -> ShardData:
    """Read and validate a whole shard; optionally require a config, encoder and policy size.

    Raises:
        ShardError: missing, unreadable or inconsistent file.
        ShardMismatch: another config, encoder version or policy size than required.
    """
    with ShardReader(path, config=config, encoder_version=encoder_version,
                     policy_size=policy_size) as reader:
        return reader.read_all()


class ShardReader:
    """An open shard whose rows are read front to back in validated chunks.

    Opening checks the metadata, the arrays' shapes (from their ``.npy`` headers) and the
    policy offsets, and the config, encoder version and policy size asked for (None: any).
    :meth:`chunks` then decompresses every array as a stream, checking each chunk, and at the
    end that every array ends where it should (which makes the zip check its CRCs).

    Raises:
        ShardError: missing, unreadable or inconsistent file.
        ShardMismatch: another config, encoder version or policy size than required.
    """

    def __init__(self, path: str | os.PathLike[str], *, config: GameConfig | None = None,
                 encoder_version: int | None = None, policy_size: int | None = None) -> None:
        self.where = str(path)
        try:
            self._zip = zipfile.ZipFile(path)
        except FileNotFoundError:
            raise ShardError(self.where, "no such file") from None
        except _READ_ERRORS as error:
            raise ShardError(self.where, _unreadable(error)) from error
        try:
            self.metadata = self._read_metadata()
            self._streams = {name: self._open_array(name) for name in _ARRAYS}
            meta, streams, where = self.metadata, self._streams, self.where
            checks.check_layout(where, meta, {n: s.shape for n, s in streams.items()})
            self.offsets = streams["policy_offsets"].read(meta.sample_count + 1)
            checks.check_offsets(where, self.offsets, streams["policy_indices"].shape[0])
            checks.check_made_for(where, (meta.config, meta.encoder_version, meta.policy_size),
                                  config=config, encoder_version=encoder_version,
                                  policy_size=policy_size)
        except BaseException:
            self.close()
            raise
        self._next_row = 0

    def row_shape(self, name: str) -> tuple[int, ...]:
        """The shape of one row of a per-sample array (``planes``: ``(C, H, W)``)."""
        return self._streams[name].shape[1:]

    def chunks(self, max_bytes: int = _CHUNK_BYTES) -> Iterator[ShardData]:
        """The shard's rows in order, as :class:`ShardData` chunks of about ``max_bytes``.

        A chunk's ``policy_offsets`` start at 0 and its ``metadata.sample_count`` is its own
        length; ``game_index`` still points into the shard's ``metadata.game_ids``.

        Raises:
            ShardError: a chunk fails its checks, or the file is damaged.
        """
        total = self.metadata.sample_count
        row_bytes = sum(math.prod(self._streams[name].shape[1:]) * _DTYPES[name].itemsize
                        for name in _PER_SAMPLE)
        step = max(1, max_bytes // max(1, row_bytes))
        while self._next_row < total:
            yield self._read_rows(min(step, total - self._next_row))
        with self._reading():
            for name in (*_PER_SAMPLE, "policy_indices", "policy_probs"):
                if not self._streams[name].at_end():
                    raise ShardError(self.where, f"array {name} holds more data than its shape")

    def read_all(self) -> ShardData:
        """Every row at once, with the shard's own metadata."""
        return replace(list(self.chunks(max_bytes=1 << 62))[0], metadata=self.metadata)

    def close(self) -> None:
        for stream in getattr(self, "_streams", {}).values():
            stream.fp.close()
        self._zip.close()

    def __enter__(self) -> ShardReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _read_rows(self, count: int) -> ShardData:
        start = self._next_row
        first, last = int(self.offsets[start]), int(self.offsets[start + count])
        streams = self._streams
        with self._reading():
            arrays = {name: streams[name].read(count) for name in _PER_SAMPLE}
            arrays["policy_indices"] = streams["policy_indices"].read(last - first)
            arrays["policy_probs"] = streams["policy_probs"].read(last - first)
        arrays["policy_offsets"] = self.offsets[start:start + count + 1] - first
        chunk = ShardData(metadata=replace(self.metadata, sample_count=count), **arrays)
        checks.check_content(self.where, chunk)
        self._next_row += count
        return chunk

    def _read_metadata(self) -> ShardMetadata:
        stream = self._open_array("metadata")
        with self._reading():
            blob = stream.read(stream.shape[0] if stream.shape else 0).tobytes()
        stream.fp.close()
        try:
            raw: dict[str, Any] = json.loads(blob.decode())
            raw["source_model_ids"] = tuple(raw.get("source_model_ids", ()))
            raw["game_ids"] = tuple(raw.get("game_ids", ()))
            meta = ShardMetadata(**raw)
        except (ValueError, TypeError, AttributeError) as error:
            raise ShardError(self.where, f"metadata malformed: {error}") from error
        if meta.format_version != SHARD_FORMAT_VERSION:
            raise ShardError(self.where, f"format version {meta.format_version} is not "
                                         f"{SHARD_FORMAT_VERSION}")
        return meta

    def _open_array(self, name: str) -> ArrayStream:
        with self._reading():
            try:
                return open_array(self._zip, name, _DTYPES.get(name))
            except KeyError:
                raise ShardError(self.where, f"missing array '{name}'") from None

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Turn the zip's and numpy's read errors into a ShardError naming the file."""
        try:
            yield
        except _READ_ERRORS as error:
            raise ShardError(self.where, _unreadable(error)) from error


def _unreadable(error: BaseException) -> str:
    return f"unreadable ({type(error).__name__}: {error})"
