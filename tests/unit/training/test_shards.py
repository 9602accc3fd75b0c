"""Shards: round trip through the one writer and reader, and every validation on read.

Checks: samples written come back equal (planes, globals, sparse policies,
values, game ids, metadata); reading in chunks of rows gives the same rows, policies and game
indices as reading at once; reading refuses damaged compressed data, a truncated file, a
shard for another config, encoder or policy size (``ShardMismatch``), and arrays that
contradict each other or the metadata (``ShardError`` naming the problem); writing refuses
bad samples.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION
from ringrift.errors import PoisonMessage
from ringrift.training.errors import ShardError, ShardMismatch
from ringrift.training.shards import Sample, ShardReader, read_shard, write_shard
from tests.unit.training.conftest import damage_member

SQUARE8 = GameConfig("square8", 2)


def test_round_trip(make_shard: Callable[..., Path], square8_samples: list[Sample]) -> None:
    path = make_shard(count=20)
    data = read_shard(path, config=SQUARE8, encoder_version=ENCODER_VERSION)
    assert len(data) == 20 and data.metadata.sample_count == 20
    assert data.metadata.source_model_ids == ("random",)
    assert data.metadata.game_ids == ("g3-0",)
    for row in (0, 7, 19):
        sample = square8_samples[row]
        assert np.array_equal(data.planes[row], sample.planes)
        assert np.array_equal(data.globals[row], sample.globals)
        assert np.array_equal(data.values[row], sample.values)
        indices, probs = data.policy(row)
        assert indices.tolist() == sample.policy_indices.tolist()
        assert probs.tolist() == sample.policy_probs.tolist() and probs.sum() == 1.0
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_chunked_reading_gives_the_same_rows(make_shard: Callable[..., Path]) -> None:
    path = make_shard(count=30)
    whole = read_shard(path)
    with ShardReader(path) as reader:
        row_bytes = whole.planes[0].nbytes + whole.globals[0].nbytes + whole.values[0].nbytes + 4
        chunks = list(reader.chunks(max_bytes=7 * row_bytes))
    assert [len(chunk) for chunk in chunks] == [7, 7, 7, 7, 2]
    start = 0
    for chunk in chunks:
        assert chunk.policy_offsets[0] == 0
        assert np.array_equal(chunk.planes, whole.planes[start:start + len(chunk)])
        assert np.array_equal(chunk.game_index, whole.game_index[start:start + len(chunk)])
        for row in range(len(chunk)):
            assert chunk.policy(row)[0].tolist() == whole.policy(start + row)[0].tolist()
            assert chunk.policy(row)[1].tolist() == whole.policy(start + row)[1].tolist()
        start += len(chunk)


def test_damaged_compressed_data_is_refused(make_shard: Callable[..., Path]) -> None:
    path = make_shard()
    damage_member(path)
    with pytest.raises(ShardError, match="unreadable"):
        read_shard(path)


def test_truncated_file(make_shard: Callable[..., Path]) -> None:
    path = make_shard()
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ShardError) as caught:
        read_shard(path)
    assert isinstance(caught.value, PoisonMessage) and str(path) in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ShardError, match="no such file"):
        read_shard(tmp_path / "absent.npz")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"config": GameConfig("square8", 3)}, "config"),
    ({"encoder_version": ENCODER_VERSION + 1}, "encoder_version"),
    ({"policy_size": 5}, "policy_size"),
])
def test_mismatch(make_shard: Callable[..., Path], kwargs: dict[str, object],
                  field: str) -> None:
    with pytest.raises(ShardMismatch) as caught:
        read_shard(make_shard(), **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def _rewrite(path: Path, **changes: np.ndarray) -> None:
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays.update(changes)
    np.savez(path, **arrays)


@pytest.mark.parametrize(("change", "reason"), [
    (lambda a: {"values": a["values"] * 3}, "value targets"),
    (lambda a: {"policy_probs": a["policy_probs"] * 0.5}, "sum to 1"),
    (lambda a: {"policy_indices": a["policy_indices"] + 10**7}, "policy index"),
    (lambda a: {"policy_offsets": a["policy_offsets"][:-1]}, "policy_offsets"),
    (lambda a: {"globals": a["globals"][:-1]}, "globals"),
    (lambda a: {"metadata": np.frombuffer(json.dumps(
        dict(json.loads(a["metadata"].tobytes()), sample_count=3)).encode(), np.uint8)},
     "metadata says 3"),
])
def test_inconsistent_arrays(make_shard: Callable[..., Path], change: object,
                             reason: str) -> None:
    path = make_shard(count=12)
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    _rewrite(path, **change(arrays))  # type: ignore[operator]
    with pytest.raises(ShardError, match=reason):
        read_shard(path)


def test_writer_refuses_bad_samples(tmp_path: Path, square8_samples: list[Sample]) -> None:
    from tests.unit.training.conftest import metadata_for  # noqa: PLC0415
    probs = square8_samples[0].policy_probs
    bad = replace(square8_samples[0], policy_probs=np.full_like(probs, 0.3 / len(probs)))
    with pytest.raises(ShardError, match="sum to 1"):
        write_shard(tmp_path / "bad.npz", [bad], metadata_for(SQUARE8))
    assert not (tmp_path / "bad.npz").exists()
