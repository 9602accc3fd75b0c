"""The knobs of one training run and its learning-rate schedule.

Kept apart from the run loop (:mod:`ringrift.training.trainer`) because a resumable
checkpoint stores these settings and a resumed run must match them: they are the identity of
a run, while the window, the device and the callbacks are how it is driven.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class TrainSettings:
    """Knobs of one training run (logged at start, stored in resumable checkpoints)."""

    steps: int = 400
    """Optimizer steps of this run; the schedule spans them."""
    batch_size: int = 128
    """Samples per step and per process (the caller chooses it, e.g. from free GPU memory)."""
    learning_rate: float = 2e-3
    """Peak learning rate, reached after the warm-up."""
    weight_decay: float = 1e-4
    """AdamW decoupled weight decay."""
    warmup_steps: int = 20
    """Steps of linear warm-up from 0 to ``learning_rate``."""
    final_lr_fraction: float = 0.1
    """The cosine decay ends at this fraction of the peak rate."""
    value_loss_weight: float = 1.0
    """Weight of the value MSE against the policy cross-entropy."""
    augment: bool = True
    """Apply a random board symmetry to each sample."""
    seed: int = 0
    """Seed of the initial weights, batches and augmentations."""
    mixed_precision: bool = True
    """Use bfloat16 autocast on CUDA (ignored on a CPU)."""
    grad_clip: float = 5.0
    """Clip the global gradient norm to this value (0 = off)."""
    checkpoint_every: int = 0
    """Write a resumable checkpoint every so many steps (0 = only at the end)."""


def learning_rate(step: int, settings: TrainSettings) -> float:
    """Warm-up then cosine decay, as a function of the run's step (0-based)."""
    peak = settings.learning_rate
    if step < settings.warmup_steps:
        return peak * (step + 1) / settings.warmup_steps
    span = max(1, settings.steps - settings.warmup_steps)
    progress = min(1.0, (step - settings.warmup_steps) / span)
    floor = peak * settings.final_lr_fraction
    return floor + (peak - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
