"""Batches: augmentation moves planes and policy targets together; batches depend on the step.

Checks: with one sample and one symmetry, every batch row is that sample's planes
under the symmetry and its policy indices under the same symmetry's map, with
probabilities and values unchanged; a sample whose legal moves include a cell-order-dependent
index (a territory decision) is drawn untransformed while the others are transformed; the same
(seed, step) gives the same batch and another step a different one; rows are drawn uniformly
over the whole window, every shard in proportion to its size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from ringrift.configs import GameConfig
from ringrift.encoding import Encoder, symmetries
from ringrift.encoding.symmetry import identity_symmetry
from ringrift.training.batches import BatchSampler
from ringrift.training.shards import Sample, read_shard, write_shard
from ringrift.training.window import TrainingWindow
from tests.unit.training.conftest import metadata_for

SQUARE8 = GameConfig("square8", 2)


def test_augmentation_moves_planes_and_targets_together(
        make_shard: Callable[..., Path], window_of: Callable[..., TrainingWindow]) -> None:
    shard = make_shard(count=1, start=30)
    data = read_shard(shard)
    sym = symmetries(SQUARE8)[5]
    batch = BatchSampler(window_of(shard), [sym], batch_size=4, seed=0).batch(step=3)
    indices, probs = data.policy(0)
    for row in range(4):
        assert np.array_equal(batch.planes[row], sym.apply_planes(data.planes[0]))
        mine = batch.policy_rows == row
        assert batch.policy_indices[mine].tolist() == sym.apply_indices(indices).tolist()
        assert batch.policy_probs[mine].tolist() == probs.tolist()
        assert np.array_equal(batch.values[row], data.values[0])
    assert not np.array_equal(batch.planes[0], data.planes[0])


def test_samples_with_order_dependent_moves_are_drawn_untransformed(
        tmp_path: Path, square8_samples: list[Sample],
        window_of: Callable[..., TrainingWindow]) -> None:
    layout = Encoder.for_config(SQUARE8).layout
    plain = square8_samples[30]
    territory = layout.index(layout.territory, 0)
    marked = replace(plain, policy_indices=np.append(plain.policy_indices, territory),
                     policy_probs=np.append(plain.policy_probs, 0.0).astype(np.float32))
    assert layout.order_dependent(marked.policy_indices).any()
    assert not layout.order_dependent(plain.policy_indices).any()
    write_shard(tmp_path / "s.npz", [plain, marked], metadata_for(SQUARE8))
    non_identity = [sym for sym in symmetries(SQUARE8) if sym.name != "identity"]
    batch = BatchSampler(window_of(tmp_path / "s.npz"), non_identity, batch_size=32,
                         seed=0).batch(step=0)
    seen = set()
    for row in range(32):
        indices = batch.policy_indices[batch.policy_rows == row]
        is_marked = len(indices) == len(marked.policy_indices)
        seen.add(is_marked)
        original = marked if is_marked else plain
        assert (indices.tolist() == original.policy_indices.tolist()) is is_marked
        assert np.array_equal(batch.planes[row], original.planes) is is_marked
    assert seen == {True, False}


def test_batches_are_a_function_of_seed_and_step(
        tmp_path: Path, make_shard: Callable[..., Path],
        window_of: Callable[..., TrainingWindow]) -> None:
    shard = make_shard(count=40)
    sampler = BatchSampler(window_of(shard), symmetries(SQUARE8), batch_size=8, seed=7)
    assert np.array_equal(sampler.batch(2).planes, sampler.batch(2).planes)
    assert not np.array_equal(sampler.batch(2).planes, sampler.batch(3).planes)
    rebuilt = BatchSampler(window_of(shard, cache=tmp_path / "another-cache"),
                           symmetries(SQUARE8), batch_size=8, seed=7)
    assert np.array_equal(rebuilt.batch(2).planes, sampler.batch(2).planes)
    assert np.array_equal(rebuilt.batch(2).policy_indices, sampler.batch(2).policy_indices)


def test_rows_are_drawn_uniformly_over_the_whole_window(
        tmp_path: Path, square8_samples: list[Sample],
        window_of: Callable[..., TrainingWindow]) -> None:
    # Each sample's value target is its number in the window, so a batch row names its source.
    tagged = [replace(sample, values=np.array([k / 128, -k / 128], dtype=np.float32))
              for k, sample in enumerate(square8_samples[:100])]
    shards = []
    for name, lo, hi in (("a", 0, 10), ("b", 10, 40), ("c", 40, 100)):
        write_shard(tmp_path / f"{name}.npz", tagged[lo:hi], metadata_for(SQUARE8))
        shards.append(tmp_path / f"{name}.npz")
    window = window_of(*shards)
    sampler = BatchSampler(window, [identity_symmetry(SQUARE8)], batch_size=50, seed=3)
    drawn = np.concatenate([np.rint(sampler.batch(step).values[:, 0] * 128).astype(int)
                            for step in range(200)])
    per_row = np.bincount(drawn, minlength=100)
    assert len(window) == 100 and len(per_row) == 100 and per_row.min() > 0
    shares = np.array([per_row[:10].sum(), per_row[10:40].sum(), per_row[40:].sum()])
    assert np.allclose(shares / len(drawn), [0.1, 0.3, 0.6], atol=0.02), shares
    batch = sampler.batch(0)
    for row in range(len(batch)):
        source = tagged[int(np.rint(batch.values[row, 0] * 128))]
        assert np.array_equal(batch.planes[row], source.planes)
        mine = batch.policy_rows == row
        assert batch.policy_indices[mine].tolist() == source.policy_indices.tolist()
