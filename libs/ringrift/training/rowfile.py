"""Row files: a shard converted once into a file whose rows are read one at a time with pread.

Why: a shard is a compressed ``.npz``, which can only be read front to back, and a training
window of many shards need not fit in memory. A row file holds the same rows uncompressed,
so that any row is two ``pread`` calls away and the trainer's memory stays that of one
batch, whatever the window's size. ``pread`` rather than a memory map: pages of a mapped file
count in the process's resident set as they are touched, so a long run over a large window
would grow in RSS until the whole window had been mapped in.

Layout (little-endian; :data:`ROW_FILE_VERSION` changes with it):

- 8 bytes magic ``RINGROWS``, uint32 version, uint32 header length, the header (UTF-8 JSON:
  config, encoder version, policy size, shapes, sample count, source sha256), space-padded to
  a multiple of 8 bytes;
- the shard's policy offsets, ``N + 1`` int64;
- ``N`` records, record ``i`` at ``data_start + 4 (D + 1) i + 8 policy_offsets[i]``: float32
  ``[order_dependent, planes (C*H*W), globals (G), values (P)]`` (``D = C*H*W + G + P``),
  then its policy entries as (int32 index, float32 probability) pairs.

``order_dependent`` is 1.0 for a sample whose legal moves include a cell-order-dependent
policy index (see :meth:`ringrift.encoding.policy.PolicyLayout.order_dependent`), computed
once here so that batches need not look at the indices to decide on augmentation.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ringrift.configs import GameConfig
from ringrift.encoding.policy import layout_for
from ringrift.storage.atomic import atomic_write
from ringrift.training.errors import TrainingError
from ringrift.training.shard_checks import check_made_for
from ringrift.training.shards import ShardReader

ROW_FILE_VERSION = 1
_MAGIC = b"RINGROWS"
_PREFIX = struct.Struct("<8sII")
POLICY_ENTRY = np.dtype([("index", "<i4"), ("prob", "<f4")])


class RowFileError(TrainingError):
    """A row file is not one this code wrote completely; the cache rebuilds it."""


@dataclass(frozen=True)
class RowFileHeader:
    """What a row file holds; everything needed to address its rows."""

    board_type: str
    num_players: int
    encoder_version: int
    policy_size: int
    planes_shape: tuple[int, int, int]
    num_globals: int
    sample_count: int
    policy_entries: int
    source_sha256: str
    source_model_ids: tuple[str, ...] = ()

    @property
    def config(self) -> GameConfig:
        return GameConfig(self.board_type, self.num_players)

    @property
    def dense_width(self) -> int:
        """float32 values before a record's policy: the flag, planes, globals and values."""
        c, h, w = self.planes_shape
        return 1 + c * h * w + self.num_globals + self.num_players


def convert_shard(shard: str | os.PathLike[str], target: str | os.PathLike[str], *,
                  config: GameConfig, encoder_version: int, policy_size: int,
                  sha256: str) -> RowFileHeader:
    """Write the row file of a shard atomically, reading the shard a chunk at a time.

    Args:
        shard: the ``.npz`` shard.
        target: the row file to write (replaced atomically; a kill leaves no partial file).
        config, encoder_version, policy_size: what the shard must be made for.
        sha256: the shard file's sha256, recorded in the header.

    Raises:
        ShardError, ShardMismatch: the shard is damaged or made for something else.
    """
    layout = layout_for(config.board_type)
    with ShardReader(shard, config=config, encoder_version=encoder_version,
                     policy_size=policy_size) as reader:
        meta = reader.metadata
        header = RowFileHeader(
            board_type=meta.board_type, num_players=meta.num_players,
            encoder_version=meta.encoder_version, policy_size=meta.policy_size,
            planes_shape=reader.row_shape("planes"),  # type: ignore[arg-type]
            num_globals=reader.row_shape("globals")[0], sample_count=meta.sample_count,
            policy_entries=int(reader.offsets[-1]), source_sha256=sha256,
            source_model_ids=meta.source_model_ids)
        with atomic_write(target) as out:
            out.write(_encode_header(header))
            out.write(reader.offsets.astype("<i8").tobytes())
            for chunk in reader.chunks():
                n = len(chunk)
                flagged = np.concatenate(
                    [[0], np.cumsum(layout.order_dependent(chunk.policy_indices))])
                offsets = chunk.policy_offsets
                order_dependent = flagged[offsets[1:]] > flagged[offsets[:-1]]
                dense = np.concatenate(
                    [order_dependent[:, None], chunk.planes.reshape(n, -1), chunk.globals,
                     chunk.values], axis=1).astype("<f4")
                entries = np.empty(len(chunk.policy_indices), dtype=POLICY_ENTRY)
                entries["index"] = chunk.policy_indices
                entries["prob"] = chunk.policy_probs
                for row in range(n):  # the file object buffers these small writes
                    out.write(dense[row].data)
                    out.write(entries[offsets[row]:offsets[row + 1]].data)
    return header


class RowFile:
    """An open row file: its header, and where each of its rows lies.

    Args:
        path: the row file.

    Raises:
        RowFileError: not a complete row file of this version (delete it; it is rebuilt).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.fd = os.open(self.path, os.O_RDONLY)
        try:
            self.header, self.index_start = _read_header(self.fd, str(self.path))
            h = self.header
            self.data_start = self.index_start + 8 * (h.sample_count + 1)
            self.record_bytes = 4 * h.dense_width
            expected = self.data_start + self.record_bytes * h.sample_count + (
                POLICY_ENTRY.itemsize * h.policy_entries)
            if os.fstat(self.fd).st_size != expected:
                raise RowFileError(f"row file {self.path} is truncated or overlong")
        except BaseException:
            os.close(self.fd)
            raise

    def check(self, shard: str, config: GameConfig, encoder_version: int,
              policy_size: int) -> None:
        """Refuse a row file made for another config, encoder or policy size than asked.

        Raises:
            ShardMismatch: naming ``shard``, the file it was converted from.
        """
        h = self.header
        check_made_for(shard, (h.config, h.encoder_version, h.policy_size), config=config,
                       encoder_version=encoder_version, policy_size=policy_size)

    def close(self) -> None:
        os.close(self.fd)


def _encode_header(header: RowFileHeader) -> bytes:
    blob = json.dumps(asdict(header)).encode()
    blob += b" " * (-(_PREFIX.size + len(blob)) % 8)
    return _PREFIX.pack(_MAGIC, ROW_FILE_VERSION, len(blob)) + blob


def _read_header(fd: int, where: str) -> tuple[RowFileHeader, int]:
    prefix = os.pread(fd, _PREFIX.size, 0)
    if len(prefix) != _PREFIX.size:
        raise RowFileError(f"row file {where} is too short to be one")
    magic, version, length = _PREFIX.unpack(prefix)
    if magic != _MAGIC or version != ROW_FILE_VERSION:
        raise RowFileError(f"{where} is not a row file of version {ROW_FILE_VERSION}")
    try:
        raw = json.loads(os.pread(fd, length, _PREFIX.size).decode())
        raw["planes_shape"] = tuple(raw["planes_shape"])
        raw["source_model_ids"] = tuple(raw["source_model_ids"])
        header = RowFileHeader(**raw)
    except (ValueError, TypeError, KeyError) as error:
        raise RowFileError(f"row file {where} has a malformed header: {error}") from error
    return header, _PREFIX.size + length
