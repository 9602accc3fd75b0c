"""The trainer: a policy-value network fitted to a window of shards, as long, resumable work.

:func:`train` is the one entry point, for the trainer service and the library's tests alike. It
opens the window through the row-file cache (:mod:`ringrift.training.window`: memory stays
that of a batch whatever the window's size), draws augmented batches uniformly over it
(:mod:`ringrift.training.batches`) and takes AdamW steps with a linear warm-up then a cosine
decay (:mod:`ringrift.training.loss`, :mod:`ringrift.training.settings`).

Seeded: the initial weights, every batch and every augmentation come from
``TrainSettings.seed`` (batches from ``(seed, step)``), so a run is reproducible and a resumed
run continues exactly where it stopped. The output checkpoint carries the run's state
(:mod:`ringrift.training.run_state`); calling :func:`train` again with the same output,
settings and window resumes from it (and returns at once if that run had finished), so a
SIGKILL loses at most ``checkpoint_every`` steps and the step count continues. A service drives
a run with ``should_stop`` (checked before every step: the run checkpoints and returns) and
``on_progress`` (called after every step). On CUDA the model runs under bfloat16 autocast and,
under torchrun, in DistributedDataParallel; on a CPU it is plain float32 in one process.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel

from ringrift.cli.progress import progress_bar
from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION, Encoder
from ringrift.encoding.symmetry import identity_symmetry, symmetries
from ringrift.models.checkpoint import CheckpointMetadata
from ringrift.training.batches import Batch, BatchSampler
from ringrift.training.distributed import any_rank, placement
from ringrift.training.loss import train_step
from ringrift.training.run_state import loss_history, save_run, start_run
from ringrift.training.settings import TrainSettings, learning_rate
from ringrift.training.window import ShardLike, open_window, prune_cache

logger = logging.getLogger(__name__)
DEFAULT_SETTINGS = TrainSettings()

__all__ = ["TrainProgress", "TrainResult", "TrainSettings", "learning_rate", "train"]


@dataclass(frozen=True)
class TrainProgress:
    """Where a run stands after a step, for a progress view or a metric."""

    step: int
    """Steps of the run done (counting those before a resume)."""
    total_steps: int
    policy_loss: float
    value_loss: float
    learning_rate: float
    samples_per_second: float
    """Training speed of this call so far (all processes together)."""
    window_rows: int


@dataclass
class TrainResult:
    """What a run did, with everything a ``CandidateReady`` event needs.

    ``policy_losses``/``value_losses`` and ``samples_per_second`` cover this call's steps;
    ``losses`` and ``train_seconds`` the whole run, across resumes.
    """

    checkpoint: Path
    metadata: CheckpointMetadata
    start_step: int
    steps_run: int
    completed: bool
    """The run has done all ``settings.steps`` steps; its checkpoint is the finished model."""
    cancelled: bool
    """``should_stop`` ended this call early; the run resumes from its checkpoint."""
    shard_ids: list[str]
    """The window's shards as given (their sha256 where no id was given)."""
    window_rows: int
    losses: dict[str, float]
    """Mean policy and value loss over the last tenth of the run's steps."""
    train_seconds: float
    policy_losses: list[float] = field(default_factory=list)
    value_losses: list[float] = field(default_factory=list)
    samples_per_second: float = 0.0

    @property
    def model_id(self) -> str:
        return self.metadata.model_id

    @property
    def train_step(self) -> int:
        """Optimizer steps behind the weights, counted from scratch (the parent's included)."""
        return self.metadata.training_step

    @property
    def samples_seen(self) -> int:
        """Training samples behind the weights, counted from scratch."""
        return self.metadata.rows_seen

    @property
    def architecture(self) -> str:
        """The network's named architecture and size preset, e.g. ``resnet_pv-small``."""
        return f"{self.metadata.architecture}-{self.metadata.hyperparameters['preset']['name']}"


def train(shards: Sequence[ShardLike], output: str | os.PathLike[str], *, config: GameConfig,
          settings: TrainSettings = DEFAULT_SETTINGS,
          init: str | os.PathLike[str] | None = None, preset: str | None = None,
          resume: bool = True, stop_after: int | None = None, device: str | None = None,
          cache_dir: str | os.PathLike[str] | None = None,
          should_stop: Callable[[], bool] | None = None,
          on_progress: Callable[[TrainProgress], None] | None = None) -> TrainResult:
    """Train on a window of shards and write the model to ``output``.

    Args:
        shards: the window: shard files or :class:`~ringrift.training.window.WindowShard`
            (with the id events use and, when known, the sha256), all of ``config``.
        output: checkpoint path; if it holds an unfinished run with the same settings and
            window and ``resume`` is true, training continues from it.
        config: board and player count.
        settings: the run's knobs (the batch size among them).
        init: a checkpoint to start from (the parent model); None starts from random weights
            of ``preset``.
        preset: size of a fresh network (ignored with ``init``).
        resume: continue an unfinished run found at ``output``.
        stop_after: stop after this many steps of this call (the run stays resumable).
        device: force ``cpu`` or ``cuda``; None picks CUDA when available.
        cache_dir: where the window's row files are kept (default: ``window-cache`` beside
            ``output``); pruned to this window's shards.
        should_stop: checked before every step; when it returns true the run checkpoints and
            returns with ``cancelled`` set (a ``threading.Event``'s ``is_set`` fits).
        on_progress: called after every step (main process only).

    Raises:
        TrainingError, ShardError, ShardMismatch, CheckpointError: see their messages.
    """
    place = placement(device)
    output = Path(output)
    cache = Path(cache_dir) if cache_dir is not None else output.parent / "window-cache"
    encoder = Encoder.for_config(config)
    with open_window(shards, config, cache, encoder_version=ENCODER_VERSION,
                     policy_size=encoder.policy_size) as window:
        if place.is_main:
            prune_cache(cache, config, window.sha256s)
        torch.manual_seed(settings.seed)
        model, state = start_run(output, window, config, settings, init, preset, resume, place)
        sampler = BatchSampler(
            window, symmetries(config) if settings.augment else [identity_symmetry(config)],
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
                        config.key, start, end, settings.steps, place.device, len(window),
                        extra={"config": config.key, "settings": asdict(settings)})
        before = loss_history(state)
        policy_losses: list[float] = []
        value_losses: list[float] = []

        def save(step: int) -> CheckpointMetadata:
            nonlocal state
            metadata, state = save_run(
                output, model, optimizer, state, step, settings, place,
                (before[0] + policy_losses, before[1] + value_losses),
                seconds_before + time.perf_counter() - began)
            return metadata

        seconds_before = float(state.get("train_seconds", 0.0))
        began = time.perf_counter()
        done, cancelled = start, False
        with progress_bar(description=f"train {config.key}", total=end - start,
                          unit="step") as bar:
            for step, batch in _prefetched(sampler, range(start, end), place.rank):
                cancelled = any_rank(should_stop is not None and should_stop(), place)
                if cancelled:
                    break
                policy_loss, value_loss = train_step(net, optimizer, batch, step, settings, place)
                policy_losses.append(policy_loss)
                value_losses.append(value_loss)
                done = step + 1
                bar.update(1)
                bar.set_postfix(policy=f"{policy_loss:.3f}", value=f"{value_loss:.3f}")
                if on_progress is not None and place.is_main:
                    on_progress(TrainProgress(
                        done, settings.steps, policy_loss, value_loss,
                        learning_rate(step, settings),
                        _speed(done - start, settings, place.world_size, began), len(window)))
                if settings.checkpoint_every and done % settings.checkpoint_every == 0 and (
                        done < end):
                    save(done)
        metadata = save(done)
        run_policy, run_value = before[0] + policy_losses, before[1] + value_losses
        tail = max(1, len(run_policy) // 10)
        result = TrainResult(
            checkpoint=output, metadata=metadata, start_step=start, steps_run=done - start,
            completed=done >= settings.steps, cancelled=cancelled,
            shard_ids=list(window.shard_ids), window_rows=len(window),
            losses={"policy": _mean(run_policy[-tail:]), "value": _mean(run_value[-tail:])},
            train_seconds=float(state["train_seconds"]), policy_losses=policy_losses,
            value_losses=value_losses,
            samples_per_second=_speed(done - start, settings, place.world_size, began))
    if place.is_main:
        logger.info("trained %s: steps %d-%d of %d%s, %.0f samples/s, model %s", config.key,
                    start, done, settings.steps, " (cancelled)" if cancelled else "",
                    result.samples_per_second, metadata.display_name)
    return result


def _prefetched(sampler: BatchSampler, steps: range, rank: int) -> Iterator[tuple[int, Batch]]:
    """``(step, batch)`` for each step, the next batch read in a thread while one trains.

    Batches are pure functions of the step, so reading ahead changes nothing but the time
    spent waiting for rows; the thread's reads (``pread``) release the interpreter lock.
    """
    if not steps:
        return
    with ThreadPoolExecutor(max_workers=1) as reader:
        pending = reader.submit(sampler.batch, steps[0], rank)
        for step in steps:
            batch = pending.result()
            if step + 1 < steps.stop:
                pending = reader.submit(sampler.batch, step + 1, rank)
            yield step, batch


def _speed(steps: int, settings: TrainSettings, world_size: int, began: float) -> float:
    return steps * settings.batch_size * world_size / max(time.perf_counter() - began, 1e-9)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")
