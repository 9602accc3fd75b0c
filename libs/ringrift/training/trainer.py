"""The trainer: a policy-value network fitted to a window of shards.

Loss = policy cross-entropy against the search's improved policy, the softmax taken over
each sample's legal moves only as at inference, + a weighted mean squared error of the
per-seat values. AdamW with a linear warm-up then a cosine decay. Every batch is
augmented by a random board symmetry per sample.
Seeded: the initial weights, every batch and every augmentation come from
``TrainSettings.seed`` (batches from ``(seed, step)``), so a run is reproducible
and a resumed run continues exactly where it stopped.

Checkpoints go through :mod:`ringrift.models.checkpoint` only. The output file
carries the optimizer state; calling :func:`train` again with the same output
and settings resumes from it (and returns at once if that run had finished), so
killing a trainer loses at most ``checkpoint_every`` steps. On CUDA the forward pass runs
under ``torch.autocast`` (bfloat16) and, under torchrun, in
DistributedDataParallel; on a CPU it is plain float32 in one process.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel

from ringrift.cli.progress import progress_bar
from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION, Encoder
from ringrift.encoding.symmetry import identity_symmetry, symmetries
from ringrift.models.checkpoint import (
    CheckpointMetadata,
    load_checkpoint,
    read_metadata,
    save_checkpoint,
)
from ringrift.models.network import PolicyValueNet
from ringrift.models.presets import get_preset
from ringrift.training.batches import Batch, BatchSampler
from ringrift.training.distributed import Placement, barrier, placement
from ringrift.training.errors import TrainingError
from ringrift.training.shards import ShardData, read_shard

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings:
    """Knobs of one training run (logged at start, stored in resumable checkpoints)."""

    steps: int = 400
    """Optimizer steps of this run; the schedule spans them."""
    batch_size: int = 128
    """Samples per step and per process."""
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


@dataclass
class TrainResult:
    """What a run did: where the model is, its metadata, losses per step and speed."""

    checkpoint: Path
    metadata: CheckpointMetadata
    start_step: int
    steps_run: int
    policy_losses: list[float] = field(default_factory=list)
    value_losses: list[float] = field(default_factory=list)
    samples_per_second: float = 0.0

    @property
    def final_loss(self) -> float:
        """Mean total loss (unweighted sum) over the last tenth of the steps run."""
        tail = max(1, len(self.policy_losses) // 10)
        pol, val = self.policy_losses[-tail:], self.value_losses[-tail:]
        return (sum(pol) + sum(val)) / max(1, len(pol))


def learning_rate(step: int, settings: TrainSettings) -> float:
    """Warm-up then cosine decay, as a function of the run's step (0-based)."""
    peak = settings.learning_rate
    if step < settings.warmup_steps:
        return peak * (step + 1) / settings.warmup_steps
    span = max(1, settings.steps - settings.warmup_steps)
    progress = min(1.0, (step - settings.warmup_steps) / span)
    floor = peak * settings.final_lr_fraction
    return floor + (peak - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def load_window(shard_paths: Sequence[str | os.PathLike[str]], config: GameConfig) -> ShardData:
    """Read and join the shards of a training window, all checked against ``config``."""
    if not shard_paths:
        raise TrainingError("no training shards given; run self-play or the exporter first")
    encoder = Encoder.for_config(config)
    parts = [read_shard(path, config=config, encoder_version=ENCODER_VERSION,
                        policy_size=encoder.policy_size) for path in shard_paths]
    return ShardData.concatenate(parts)


def train(shard_paths: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str], *,
          config: GameConfig, settings: TrainSettings = TrainSettings(),
          init: str | os.PathLike[str] | None = None, preset: str | None = None,
          resume: bool = True, stop_after: int | None = None,
          device: str | None = None) -> TrainResult:
    """Train on a window of shards and write the model to ``output``.

    Args:
        shard_paths: the window of shard files (all of ``config``).
        output: checkpoint path; if it holds an unfinished run with the same settings
            and ``resume`` is true, training continues from it.
        config: board and player count.
        settings: the run's knobs.
        init: a checkpoint to start from (the parent model); None starts from
            random weights of ``preset``.
        preset: size of a fresh network (ignored with ``init``).
        resume: continue an unfinished run found at ``output``.
        stop_after: stop after this many steps of this call (the run stays resumable).
        device: force ``cpu`` or ``cuda``; None picks CUDA when available.

    Raises:
        TrainingError, ShardError, ShardMismatch, CheckpointError: see their messages.
    """
    place = placement(device)
    output = Path(output)
    data = load_window(shard_paths, config)
    torch.manual_seed(settings.seed)
    model, state = _start(output, shard_paths, config, settings, init, preset, resume, place)
    sampler = BatchSampler(
        data, symmetries(config) if settings.augment else [identity_symmetry(config)],
        settings.batch_size, settings.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate,
                                  weight_decay=settings.weight_decay)
    if state.get("optimizer") is not None:
        optimizer.load_state_dict(state["optimizer"])
    net: torch.nn.Module = model
    if place.distributed:
        net = DistributedDataParallel(model, device_ids=[place.device.index])
    start = int(state["run_step"])
    end = settings.steps if stop_after is None else min(settings.steps, start + stop_after)
    if place.is_main:
        logger.info("training %s from step %d to %d of %d on %s (%d samples in window)",
                    config.key, start, end, settings.steps, place.device, len(data),
                    extra={"config": config.key, "settings": asdict(settings)})

    policy_losses: list[float] = []
    value_losses: list[float] = []
    began = time.perf_counter()
    with progress_bar(description=f"train {config.key}", total=end - start, unit="step") as bar:
        for step in range(start, end):
            policy_loss, value_loss = _step(net, optimizer, sampler.batch(step, place.rank),
                                            step, settings, place)
            policy_losses.append(policy_loss)
            value_losses.append(value_loss)
            bar.update(1)
            bar.set_postfix(policy=f"{policy_loss:.3f}", value=f"{value_loss:.3f}")
            done = step + 1
            if settings.checkpoint_every and done % settings.checkpoint_every == 0 and done < end:
                _save(output, model, optimizer, state, done, settings, place)
    elapsed = max(time.perf_counter() - began, 1e-9)
    metadata = _save(output, model, optimizer, state, end, settings, place)
    result = TrainResult(
        checkpoint=output, metadata=metadata, start_step=start, steps_run=end - start,
        policy_losses=policy_losses, value_losses=value_losses,
        samples_per_second=(end - start) * settings.batch_size * place.world_size / elapsed)
    if place.is_main:
        logger.info("trained %s: %d steps, %.0f samples/s, model %s", config.key,
                    end - start, result.samples_per_second, metadata.display_name)
    return result


def _names(shard_paths: Sequence[str | os.PathLike[str]]) -> list[str]:
    """The window as recorded for resuming (absolute paths: shard names repeat across runs)."""
    return [str(Path(path).resolve()) for path in shard_paths]


def _start(output: Path, shard_paths: Sequence[str | os.PathLike[str]], config: GameConfig,
           settings: TrainSettings,
           init: str | os.PathLike[str] | None, preset: str | None, resume: bool,
           place: Placement) -> tuple[PolicyValueNet, dict[str, Any]]:
    """The model and run state to start from: a resumable run, a parent, or fresh weights."""
    if resume and output.exists():
        loaded = load_checkpoint(output, config=config, encoder_version=ENCODER_VERSION,
                                 device=place.device)
        previous = loaded.training_state
        same = previous is not None and previous["settings"] == asdict(settings)
        if previous is not None and not same and int(previous["run_step"]) < (
                int(previous["settings"]["steps"])):
            raise TrainingError(
                f"{output} holds an unfinished run with other settings; rerun with the "
                "same settings to resume it, or delete the file to start over")
        if previous is not None and same and previous.get("window") != _names(shard_paths):
            raise TrainingError(
                f"{output} holds a run over another window of shards; resume it with the same "
                "shards, or delete the file to start over")
        if previous is not None and same:
            # An unfinished run continues; a finished one is returned as it is (0 steps).
            loaded.model.train()
            return loaded.model, previous
    state: dict[str, Any] = {"run_step": 0, "settings": asdict(settings), "optimizer": None,
                             "parent_model_id": None, "base_step": 0, "base_rows": 0,
                             "window": _names(shard_paths)}
    if init is not None:
        parent = load_checkpoint(init, config=config, encoder_version=ENCODER_VERSION,
                                 device=place.device)
        state.update(parent_model_id=parent.metadata.model_id,
                     base_step=parent.metadata.training_step,
                     base_rows=parent.metadata.rows_seen)
        model = parent.model
    else:
        model = PolicyValueNet(Encoder.for_config(config).shape,
                               get_preset(preset, config.board_type)).to(place.device)
    model.train()
    return model, state


def policy_cross_entropy(logits: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor,
                         probs: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of sparse targets, the softmax taken over each row's legal moves only.

    A sample's sparse target lists every legal move of its position (the improved policy covers
    all root moves), so ``(rows, cols)`` is also the legal mask. Inference
    (``NetworkEvaluator``) softmaxes the logits of the legal moves only; the loss must
    normalise over the same set, or the network is trained for a distribution it is never
    asked for: with a softmax over the whole index space most of the mass sits on illegal
    indices, and the moves whose logit is easiest to raise everywhere (the global slots such as
    ``skip_capture``) come out hugely over-weighted once the illegal ones are masked.
    """
    batch = logits.shape[0]
    chosen = logits[rows, cols]
    row_max = torch.full((batch,), -torch.inf, device=logits.device, dtype=logits.dtype)
    row_max = row_max.scatter_reduce(0, rows, chosen.detach(), reduce="amax")
    sums = torch.zeros(batch, device=logits.device, dtype=logits.dtype).index_add(
        0, rows, torch.exp(chosen - row_max[rows]))
    log_z = row_max + torch.log(sums)
    return -((chosen - log_z[rows]) * probs).sum() / batch


def _step(net: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: Batch, step: int,
          settings: TrainSettings, place: Placement) -> tuple[float, float]:
    """One optimizer step; returns (policy loss, value loss)."""
    device = place.device
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(step, settings)
    planes = torch.from_numpy(batch.planes).to(device, non_blocking=True)
    globals_ = torch.from_numpy(batch.globals).to(device, non_blocking=True)
    values = torch.from_numpy(batch.values).to(device, non_blocking=True)
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16)
                if device.type == "cuda" and settings.mixed_precision else nullcontext())
    with autocast:
        logits, predicted = net(planes, globals_)
    rows = torch.from_numpy(batch.policy_rows).to(device)
    cols = torch.from_numpy(batch.policy_indices).to(device)
    probs = torch.from_numpy(batch.policy_probs).to(device)
    policy_loss = policy_cross_entropy(logits.float(), rows, cols, probs)
    value_loss = F.mse_loss(predicted.float(), values)
    loss = policy_loss + settings.value_loss_weight * value_loss
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if settings.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(net.parameters(), settings.grad_clip)
    optimizer.step()
    return float(policy_loss.detach()), float(value_loss.detach())


def _save(output: Path, model: PolicyValueNet, optimizer: torch.optim.Optimizer,
          state: dict[str, Any], run_step: int, settings: TrainSettings,
          place: Placement) -> CheckpointMetadata:
    """Write the resumable checkpoint (main process only) and return its metadata."""
    rows = run_step * settings.batch_size * place.world_size
    state = dict(state, run_step=run_step, optimizer=optimizer.state_dict())
    metadata = None
    if place.is_main:
        metadata = save_checkpoint(
            output, model, encoder_version=ENCODER_VERSION,
            parent_model_id=state["parent_model_id"],
            training_step=int(state["base_step"]) + run_step,
            rows_seen=int(state["base_rows"]) + rows, training_state=state)
    barrier(place)
    return metadata if metadata is not None else read_metadata(output)
