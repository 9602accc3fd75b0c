"""A training run's resumable state: what its output checkpoint carries beside the weights.

The output checkpoint of :func:`ringrift.training.trainer.train` is the run's only state, so
that a run killed at any point resumes from its last checkpoint with nothing else to find.
Its ``training_state`` holds the run's settings, the steps done, the optimizer state, the
parent model's id and counts, the window (the shards' sha256s: a run resumes only over the
same data), the shard ids as events name them, the policy and value loss of every step so far
and the training seconds so far (so that results after a resume describe the whole run).
Checkpoints go through :mod:`ringrift.models.checkpoint` only.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION, Encoder
from ringrift.models.checkpoint import (
    CheckpointMetadata,
    load_checkpoint,
    read_metadata,
    save_checkpoint,
)
from ringrift.models.network import PolicyValueNet
from ringrift.models.presets import get_preset
from ringrift.training.distributed import Placement, barrier
from ringrift.training.errors import TrainingError
from ringrift.training.settings import TrainSettings
from ringrift.training.window import TrainingWindow


def start_run(output: Path, window: TrainingWindow, config: GameConfig,
              settings: TrainSettings, init: str | os.PathLike[str] | None, preset: str | None,
              resume: bool, place: Placement) -> tuple[PolicyValueNet, dict[str, Any]]:
    """The model and run state to start from: a resumable run, a parent, or fresh weights.

    An unfinished run at ``output`` with the same settings and window continues; a finished
    one is returned as it is (no step left). A run with other settings or another window is
    refused while unfinished, so that a kill never silently restarts a run over other data.

    Raises:
        TrainingError: ``output`` holds an unfinished run with other settings or window.
        CheckpointError: ``output`` or ``init`` cannot be loaded for ``config``.
    """
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
        if previous is not None and same and previous.get("window") != window.sha256s:
            raise TrainingError(
                f"{output} holds a run over another window of shards; resume it with the same "
                "shards, or delete the file to start over")
        if previous is not None and same:
            loaded.model.train()
            return loaded.model, previous
    state: dict[str, Any] = {
        "run_step": 0, "settings": asdict(settings), "optimizer": None,
        "parent_model_id": None, "base_step": 0, "base_rows": 0, "window": window.sha256s,
        "shard_ids": window.shard_ids, "policy_losses": torch.zeros(0),
        "value_losses": torch.zeros(0), "train_seconds": 0.0}
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


def loss_history(state: dict[str, Any]) -> tuple[list[float], list[float]]:
    """The policy and value loss of every step the run has done so far."""
    steps = int(state["run_step"])
    empty = torch.zeros(0)
    return (state.get("policy_losses", empty)[:steps].tolist(),
            state.get("value_losses", empty)[:steps].tolist())


def save_run(output: Path, model: PolicyValueNet, optimizer: torch.optim.Optimizer,
             state: dict[str, Any], run_step: int, settings: TrainSettings, place: Placement,
             losses: tuple[list[float], list[float]], train_seconds: float
             ) -> tuple[CheckpointMetadata, dict[str, Any]]:
    """Write the resumable checkpoint (main process only); returns its metadata and state.

    Args:
        run_step: steps of the run done so far (the weights are those after them).
        losses: the policy and value loss of each of those steps.
        train_seconds: training seconds of the run so far, across every resume.
    """
    rows = run_step * settings.batch_size * place.world_size
    state = dict(state, run_step=run_step, optimizer=optimizer.state_dict(),
                 policy_losses=torch.tensor(losses[0], dtype=torch.float32),
                 value_losses=torch.tensor(losses[1], dtype=torch.float32),
                 train_seconds=float(train_seconds))
    metadata = None
    if place.is_main:
        metadata = save_checkpoint(
            output, model, encoder_version=ENCODER_VERSION,
            parent_model_id=state["parent_model_id"],
            training_step=int(state["base_step"]) + run_step,
            rows_seen=int(state["base_rows"]) + rows, training_state=state)
    barrier(place)
    return (metadata if metadata is not None else read_metadata(output)), state
