"""Mini-batches drawn from a training window, with random symmetry augmentation.

Each step's batch is a pure function of ``(seed, step, rank)``: the rows (uniform over the
whole window, with replacement) and the symmetry of every sample come from a generator seeded
with those numbers. A sample whose legal moves include a cell-order-dependent index (a
territory decision, a choice of extraction stack) is always drawn untransformed, since a
symmetry cannot map those indices. So a run that is stopped and resumed draws exactly the
batches it would have drawn, and two ranks of a distributed run draw different batches. Rows
are read from the window's row files per batch (:class:`ringrift.training.window.TrainingWindow`),
so memory is that of a batch, not of the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ringrift.encoding.symmetry import Symmetry
from ringrift.training.window import TrainingWindow


@dataclass
class Batch:
    """One mini-batch as numpy arrays; the policy target is sparse (row, index, prob)."""

    planes: np.ndarray
    globals: np.ndarray
    policy_rows: np.ndarray
    policy_indices: np.ndarray
    policy_probs: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return int(self.planes.shape[0])


class BatchSampler:
    """Draws augmented batches from a window of samples.

    Args:
        window: the training window.
        symmetries: the symmetries to draw from; the identity alone disables augmentation.
        batch_size: samples per batch.
        seed: base seed of the run.
    """

    def __init__(self, window: TrainingWindow, symmetries: list[Symmetry], batch_size: int,
                 seed: int) -> None:
        self.window = window
        self.batch_size = batch_size
        self.seed = seed
        # Row 0 is "no transform", for the samples no symmetry can map; draws start at row 1.
        cells = symmetries[0].grid_source.size
        policy_size = symmetries[0].policy_map.size
        self.grid_sources = np.stack([np.arange(cells)] + [s.grid_source for s in symmetries])
        self.policy_maps = np.stack([np.arange(policy_size)] + [s.policy_map for s in symmetries])

    def batch(self, step: int, rank: int = 0) -> Batch:
        """The batch of ``step`` for distributed ``rank``."""
        rng = np.random.default_rng([self.seed, step, rank])
        rows = rng.integers(0, len(self.window), size=self.batch_size)
        sym = rng.integers(1, len(self.grid_sources), size=self.batch_size)
        data = self.window.read(rows)
        sym[data.order_dependent] = 0

        b, c, h, w = data.planes.shape
        flat = data.planes.reshape(b, c, h * w)
        planes = np.take_along_axis(flat, self.grid_sources[sym][:, None, :], axis=2)
        policy_rows = np.repeat(np.arange(self.batch_size), data.policy_lengths)
        return Batch(
            planes=planes.reshape(b, c, h, w),
            globals=np.ascontiguousarray(data.globals),
            policy_rows=policy_rows,
            policy_indices=self.policy_maps[sym[policy_rows], data.policy_indices],
            policy_probs=np.ascontiguousarray(data.policy_probs),
            values=np.ascontiguousarray(data.values),
        )
