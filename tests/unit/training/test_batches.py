"""Batches: augmentation moves planes and policy targets together; batches depend on the step.

Checks: with one sample and one symmetry, every batch row is that sample's planes
under the symmetry and its policy indices under the same symmetry's map, with
probabilities and values unchanged; the same (seed, step) gives the same batch and
another step a different one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ringrift.configs import GameConfig
from ringrift.encoding import symmetries
from ringrift.training.batches import BatchSampler
from ringrift.training.shards import read_shard

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


def test_batches_are_a_function_of_seed_and_step(make_shard: Callable[..., Path]) -> None:
    data = read_shard(make_shard(count=40))
    sampler = BatchSampler(data, symmetries(SQUARE8), batch_size=8, seed=7)
    assert np.array_equal(sampler.batch(2).planes, sampler.batch(2).planes)
    assert not np.array_equal(sampler.batch(2).planes, sampler.batch(3).planes)
