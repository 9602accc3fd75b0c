"""The training window: rows read from the row-file cache are the shards' rows.

Checks: any rows of a window of several shards, in any order and with repeats, come back as
the shards hold them (planes, globals, values, policy indices and probabilities), with the
order-dependent flag of the policy layout; a shard is converted once and found again by its
content under another path; a damaged or truncated row file is rebuilt; a shard of another
policy size is refused on a cache hit too; a damaged shard is refused naming it and leaves no
row file; pruning keeps the window's row files and removes the others and stale temporaries;
an empty window is a clear error.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ringrift.configs import GameConfig
from ringrift.encoding import Encoder
from ringrift.training.errors import ShardError, ShardMismatch, TrainingError
from ringrift.training.shards import read_shard
from ringrift.training.window import TrainingWindow, WindowShard, prune_cache
from tests.unit.training.conftest import SQUARE8, damage_member


def test_rows_come_back_as_the_shards_hold_them(
        make_shard: Callable[..., Path], window_of: Callable[..., TrainingWindow]) -> None:
    paths = [make_shard("a.npz", count=12), make_shard("b.npz", count=20, start=100)]
    shards = [read_shard(path) for path in paths]
    window = window_of(*paths)
    assert len(window) == 32
    rows = np.array([31, 0, 12, 11, 12, 5, 30])
    got = window.read(rows)
    layout = Encoder.for_config(SQUARE8).layout
    position = 0
    for i, row in enumerate(rows):
        shard, local = (shards[0], row) if row < 12 else (shards[1], row - 12)
        assert np.array_equal(got.planes[i], shard.planes[local])
        assert np.array_equal(got.globals[i], shard.globals[local])
        assert np.array_equal(got.values[i], shard.values[local])
        indices, probs = shard.policy(local)
        length = got.policy_lengths[i]
        assert length == len(indices)
        assert got.policy_indices[position:position + length].tolist() == indices.tolist()
        assert got.policy_probs[position:position + length].tolist() == probs.tolist()
        assert got.order_dependent[i] == layout.order_dependent(indices).any()
        position += length
    assert window.source_model_ids == ["random"]
    with pytest.raises(IndexError):
        window.read(np.array([32]))


def test_a_shard_is_converted_once_and_found_by_its_content(
        tmp_path: Path, make_shard: Callable[..., Path],
        window_of: Callable[..., TrainingWindow]) -> None:
    path = make_shard(count=10)
    first = window_of(path)
    row_file = next((tmp_path / "cache" / SQUARE8.key).glob("*.rows"))
    stamp = os.stat(row_file).st_ino, os.stat(row_file).st_mtime_ns
    elsewhere = tmp_path / "fetched" / "copy.npz"
    elsewhere.parent.mkdir()
    shutil.copy(path, elsewhere)
    second = window_of(WindowShard(elsewhere, shard_id="shard-7"))
    assert (os.stat(row_file).st_ino, os.stat(row_file).st_mtime_ns) == stamp
    assert second.sha256s == first.sha256s and second.shard_ids == ["shard-7"]
    assert first.shard_ids == first.sha256s  # no id given: the content's sha256


def test_a_damaged_row_file_is_rebuilt(tmp_path: Path, make_shard: Callable[..., Path],
                                       window_of: Callable[..., TrainingWindow]) -> None:
    path = make_shard(count=10)
    expected = window_of(path).read(np.arange(10)).planes
    row_file = next((tmp_path / "cache" / SQUARE8.key).glob("*.rows"))
    row_file.write_bytes(row_file.read_bytes()[:-9])
    assert np.array_equal(window_of(path).read(np.arange(10)).planes, expected)
    row_file.write_bytes(b"not a row file")
    assert np.array_equal(window_of(path).read(np.arange(10)).planes, expected)


def test_another_policy_size_is_refused_on_a_cache_hit(
        make_shard: Callable[..., Path], window_of: Callable[..., TrainingWindow]) -> None:
    path = make_shard(count=10)
    window_of(path)
    with pytest.raises(ShardMismatch) as caught:
        window_of(path, policy_size=5)
    assert caught.value.field == "policy_size" and caught.value.path == str(path)


def test_a_damaged_shard_is_refused_and_leaves_no_row_file(
        tmp_path: Path, make_shard: Callable[..., Path],
        window_of: Callable[..., TrainingWindow]) -> None:
    good, bad = make_shard("good.npz"), make_shard("bad.npz", start=60)
    damage_member(bad)  # the planes: the conversion starts and fails part way
    with pytest.raises(ShardError) as caught:
        window_of(good, bad)
    assert str(bad) in str(caught.value)
    names = [p.name for p in (tmp_path / "cache" / SQUARE8.key).iterdir()]
    assert len(names) == 1 and names[0].endswith(".rows")  # the good shard's only
    with pytest.raises(ShardError, match="no such file"):
        window_of(tmp_path / "absent.npz")


def test_prune_keeps_the_window_and_removes_the_rest(
        tmp_path: Path, make_shard: Callable[..., Path],
        window_of: Callable[..., TrainingWindow]) -> None:
    old, kept = make_shard("old.npz", count=10), make_shard("kept.npz", count=10, start=50)
    window_of(old)
    window = window_of(kept)
    directory = tmp_path / "cache" / SQUARE8.key
    fresh_temp, stale_temp = directory / ".x.rows.fresh.tmp", directory / ".y.rows.old.tmp"
    fresh_temp.write_bytes(b"a conversion in progress")
    stale_temp.write_bytes(b"left by a killed conversion")
    os.utime(stale_temp, (0, 0))
    assert len(list(directory.glob("*.rows"))) == 2
    assert prune_cache(tmp_path / "cache", SQUARE8, window.sha256s) == 2
    assert [p.name for p in directory.glob("*.rows")] == [f"{window.sha256s[0]}.v1.rows"]
    assert fresh_temp.exists() and not stale_temp.exists()
    assert prune_cache(tmp_path / "cache", GameConfig("hex8", 2), []) == 0


def test_empty_window_is_a_clear_error(window_of: Callable[..., TrainingWindow]) -> None:
    with pytest.raises(TrainingError, match="no training shards"):
        window_of()
