"""The training window: every row of many shards, read a batch at a time, never all at once.

:func:`open_window` converts each shard of the window once into a row file of the cache
(:mod:`ringrift.training.rowfile`; ``<cache>/<config>/<sha256>.v<version>.rows``, keyed by
the shard's content so a shard fetched again under another path is not converted twice) and
opens them all. :meth:`TrainingWindow.read` then fetches any rows by their number in the
window with two ``pread`` calls each, so the memory a trainer needs is that of one batch,
whatever the size of the window; the operating system's page cache keeps hot rows in memory
when there is room for them.

The cache holds the uncompressed rows (about ``4 (C·H·W + G + P)`` bytes a sample, several
times the compressed shard) and is pruned to the current window by :func:`prune_cache`.
"""

from __future__ import annotations

import contextlib
import os
import resource
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ringrift.configs import GameConfig
from ringrift.storage.artifacts import file_sha256
from ringrift.training.errors import ShardError, TrainingError
from ringrift.training.rowfile import (
    POLICY_ENTRY,
    ROW_FILE_VERSION,
    RowFile,
    RowFileError,
    convert_shard,
)

_STALE_TEMPORARY_SECONDS = 3600.0
"""A conversion's temporary file older than this was left by a killed process."""


@dataclass(frozen=True)
class WindowShard:
    """A shard of a training window.

    Attributes:
        path: the local ``.npz`` file.
        shard_id: the id events use for it (``ShardWritten.shard_id``); None: its sha256.
        sha256: the file's sha256 when the caller knows it (the artifact store checked it);
            None: computed by reading the file.
    """

    path: Path
    shard_id: str | None = None
    sha256: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))


ShardLike = str | os.PathLike[str] | WindowShard


@dataclass
class Rows:
    """Rows of the window: dense arrays per row, policy entries ragged (``policy_lengths``)."""

    planes: np.ndarray
    globals: np.ndarray
    values: np.ndarray
    order_dependent: np.ndarray
    policy_lengths: np.ndarray
    policy_indices: np.ndarray
    policy_probs: np.ndarray


class TrainingWindow:
    """Random access by row number to the rows of a window's shards, in the order given."""

    def __init__(self, files: Sequence[RowFile], shard_ids: Sequence[str]) -> None:
        self._files = list(files)
        self.shard_ids = list(shard_ids)
        """The window's shards, as given (ids as events name them)."""
        self.sha256s = [f.header.source_sha256 for f in self._files]
        """The window's shards by content: what identifies the window when a run resumes."""
        first = self._files[0].header
        if any(f.header.dense_width != first.dense_width for f in self._files):
            raise TrainingError("the window's shards have different tensor shapes; train on "
                                "shards of one config and encoder version")
        self.header = first
        counts = np.array([f.header.sample_count for f in self._files], dtype=np.int64)
        self._ends = np.cumsum(counts)
        self._starts = self._ends - counts

    def __len__(self) -> int:
        return int(self._ends[-1])

    @property
    def source_model_ids(self) -> list[str]:
        """The models whose games are in the window, each once."""
        return list(dict.fromkeys(m for f in self._files for m in f.header.source_model_ids))

    def read(self, rows: np.ndarray) -> Rows:
        """The rows numbered ``rows`` (0 to ``len(self) - 1``, repeats allowed), in that order.

        Raises:
            IndexError: a row number outside the window.
            RowFileError: a row file changed on disk since it was opened.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"row outside the window of {len(self)} rows")
        which = np.searchsorted(self._ends, rows, side="right")
        local = (rows - self._starts[which]).tolist()
        files = [self._files[i] for i in which.tolist()]
        fds = [f.fd for f in files]
        n, preadv = len(rows), os.preadv
        # Pass 1: each row's [first, last) policy entries, 16 bytes of its file's offsets.
        bounds = np.empty((n, 2), dtype="<i8")
        view = memoryview(bounds).cast("B")
        got = sum([preadv(fd, [view[16 * i:16 * i + 16]], f.index_start + 8 * row)
                   for i, (fd, f, row) in enumerate(zip(fds, files, local, strict=True))])
        self._check_read(got, 16 * n)
        # Pass 2: each row's record, its dense part and its policy entries scattered straight
        # into the batch's arrays (one preadv a row).
        lengths = bounds[:, 1] - bounds[:, 0]
        width = self.header.dense_width
        dense = np.empty((n, width), dtype="<f4")
        entries = np.empty(int(lengths.sum()), dtype=POLICY_ENTRY)
        dense_view, entry_view = memoryview(dense).cast("B"), memoryview(entries.view(np.uint8))
        ends = (8 * np.cumsum(lengths)).tolist()
        starts = [0, *ends[:-1]]
        size = 4 * width
        got = sum([preadv(fd, [dense_view[size * i:size * i + size], entry_view[start:end]],
                          f.data_start + f.record_bytes * row + 8 * first)
                   for i, (fd, f, row, first, start, end) in enumerate(zip(
                       fds, files, local, bounds[:, 0].tolist(), starts, ends, strict=True))])
        self._check_read(got, size * n + 8 * len(entries))
        c, h, w = self.header.planes_shape
        g = self.header.num_globals
        return Rows(planes=dense[:, 1:1 + c * h * w].reshape(n, c, h, w),
                    globals=dense[:, 1 + c * h * w:1 + c * h * w + g],
                    values=dense[:, 1 + c * h * w + g:], order_dependent=dense[:, 0] > 0.5,
                    policy_lengths=lengths, policy_indices=entries["index"].astype(np.int64),
                    policy_probs=entries["prob"])

    def close(self) -> None:
        for f in self._files:
            f.close()

    def _check_read(self, got: int, wanted: int) -> None:
        if got != wanted:
            raise RowFileError(f"a row file in {self._files[0].path.parent} ended early (changed "
                               "on disk since it was opened); delete it and train again")

    def __enter__(self) -> TrainingWindow:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_window(shards: Sequence[ShardLike], config: GameConfig, cache_dir: str | os.PathLike[str],
                *, encoder_version: int, policy_size: int) -> TrainingWindow:
    """Open the window of ``shards``, converting each into the cache on first use.

    Args:
        shards: the shard files (paths or :class:`WindowShard`), all of ``config``.
        config: the board and player count trained.
        cache_dir: where row files are kept (created if missing).
        encoder_version, policy_size: what every shard must have been encoded with.

    Raises:
        TrainingError: no shards.
        ShardError: a shard is missing, damaged or inconsistent (the message names it).
        ShardMismatch: a shard of another config, encoder version or policy size.
    """
    if not shards:
        raise TrainingError("no training shards given; run self-play or the exporter first")
    entries = [s if isinstance(s, WindowShard) else WindowShard(Path(s)) for s in shards]
    _allow_open_files(len(entries))
    directory = Path(cache_dir) / config.key
    files: list[RowFile] = []
    try:
        for entry in entries:
            files.append(_row_file(entry, directory, config, encoder_version, policy_size))
        return TrainingWindow(files, [e.shard_id or f.header.source_sha256
                                      for e, f in zip(entries, files, strict=True)])
    except BaseException:
        for f in files:
            f.close()
        raise


def prune_cache(cache_dir: str | os.PathLike[str], config: GameConfig,
                keep: Iterable[str]) -> int:
    """Delete the row files of ``config`` whose shard sha256 is not in ``keep``.

    Also deletes row files of other versions and temporaries left by killed conversions
    (older than an hour, so that a conversion in progress elsewhere is spared). A row file
    still open by a reader stays readable until it is closed (POSIX unlink semantics).

    Returns:
        The number of files deleted.
    """
    directory = Path(cache_dir) / config.key
    if not directory.is_dir():
        return 0
    wanted = {_file_name(sha) for sha in keep}
    removed = 0
    now = time.time()
    for path in directory.iterdir():
        stale = path.name.endswith(".tmp") and (
            now - path.stat().st_mtime > _STALE_TEMPORARY_SECONDS)
        if stale or (path.name.endswith(".rows") and path.name not in wanted):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
    return removed


def _row_file(entry: WindowShard, directory: Path, config: GameConfig, encoder_version: int,
              policy_size: int) -> RowFile:
    """The open row file of one shard, converted first when the cache lacks a sound one."""
    where = str(entry.path)
    if entry.sha256 is None and not entry.path.is_file():
        raise ShardError(where, "no such file")
    sha = entry.sha256 or file_sha256(entry.path)[0]
    target = directory / _file_name(sha)
    row_file = None
    if target.exists():
        try:
            row_file = RowFile(target)
        except (RowFileError, OSError):
            target.unlink(missing_ok=True)  # incomplete or of another layout: rebuild it
    if row_file is None:
        convert_shard(entry.path, target, config=config, encoder_version=encoder_version,
                      policy_size=policy_size, sha256=sha)
        row_file = RowFile(target)
    try:
        row_file.check(where, config, encoder_version, policy_size)
    except BaseException:
        row_file.close()
        raise
    return row_file


def _file_name(sha256: str) -> str:
    return f"{sha256}.v{ROW_FILE_VERSION}.rows"


def _allow_open_files(count: int) -> None:
    """Raise the soft limit on open files when a window needs more (one per shard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = count + 256
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise TrainingError(f"a window of {count} shards needs {needed} open files but the "
                                f"limit is {hard}; raise it (ulimit -n) or merge shards")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
