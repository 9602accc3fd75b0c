"""Batches: augmentation moves planes and policy targets together; batches depend on the step.

Checks: with one sample and one symmetry, every batch row is that sample's planes
under the symmetry and its policy indices under the same symmetry's map, with
probabilities and values unchanged; a sample whose legal moves include a cell-order-dependent
index (a territory decision) is drawn untransformed while the others are transformed; the same
(seed, step) gives the same batch and another step a different one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from ringrift.configs import GameConfig
from ringrift.encoding import Encoder, symmetries
from ringrift.training.batches import BatchSampler
from ringrift.training.shards import Sample, read_shard, write_shard
from tests.unit.training.conftest import metadata_for

SQUARE8 = GameConfig("square8", 2)


def test_augmentation_moves_planes_and_targets_together(
        make_shard: Callable[..., Path]) -> None:
    data = read_shard(make_shard(count=1, start=30))
    sym = symmetries(SQUARE8)[5]
    batch = BatchSampler(data, [sym], batch_size=4, seed=0).batch(step=3)
    indices, probs = data.policy(0)
    for row in range(4):
        assert np.array_equal(batch.planes[row], sym.apply_planes(data.planes[0]))
        mine = batch.policy_rows == row
        assert batch.policy_indices[mine].tolist() == sym.apply_indices(indices).tolist()
        assert batch.policy_probs[mine].tolist() == probs.tolist()
        assert np.array_equal(batch.values[row], data.values[0])
    assert not np.array_equal(batch.planes[0], data.planes[0])


def test_samples_with_order_dependent_moves_are_drawn_untransformed(
        tmp_path: Path, square8_samples: list[Sample]) -> None:
    layout = Encoder.for_config(SQUARE8).layout
    plain = square8_samples[30]
    territory = layout.index(layout.territory, 0)
    marked = replace(plain, policy_indices=np.append(plain.policy_indices, territory),
                     policy_probs=np.append(plain.policy_probs, 0.0).astype(np.float32))
    assert layout.order_dependent(marked.policy_indices).any()
    assert not layout.order_dependent(plain.policy_indices).any()
    write_shard(tmp_path / "s.npz", [plain, marked], metadata_for(SQUARE8))
    data = read_shard(tmp_path / "s.npz")
    non_identity = [sym for sym in symmetries(SQUARE8) if sym.name != "identity"]
    batch = BatchSampler(data, non_identity, batch_size=32, seed=0).batch(step=0)
    seen = set()
    for row in range(32):
        indices = batch.policy_indices[batch.policy_rows == row]
        is_marked = len(indices) == len(marked.policy_indices)
        seen.add(is_marked)
        original = marked if is_marked else plain
        assert (indices.tolist() == original.policy_indices.tolist()) is is_marked
        assert np.array_equal(batch.planes[row], original.planes) is is_marked
    assert seen == {True, False}


def test_batches_are_a_function_of_seed_and_step(make_shard: Callable[..., Path]) -> None:
    data = read_shard(make_shard(count=40))
    sampler = BatchSampler(data, symmetries(SQUARE8), batch_size=8, seed=7)
    assert np.array_equal(sampler.batch(2).planes, sampler.batch(2).planes)
    assert not np.array_equal(sampler.batch(2).planes, sampler.batch(3).planes)
