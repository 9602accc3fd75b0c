"""The trainer on a tiny network and tiny real shards (CPU, a few seconds each).

Checks: a tiny network overfits a small shard (policy and value losses fall a
lot); the same seed reproduces the same losses and another seed does not; a run
stopped part way resumes from its checkpoint, continues the step count and ends
with the same weights as an uninterrupted run; resuming with other settings is
refused; training from a parent records its id and continues its step and row
counts; the learning-rate schedule warms up then decays; and an empty window is
a clear error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION
from ringrift.models import load_checkpoint
from ringrift.training.errors import TrainingError
from ringrift.training.trainer import TrainSettings, learning_rate, train

SQUARE8 = GameConfig("square8", 2)
QUICK = TrainSettings(steps=12, batch_size=16, learning_rate=3e-3, warmup_steps=3, seed=1)


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path, config=SQUARE8, encoder_version=ENCODER_VERSION).model.state_dict()


def test_tiny_network_overfits_a_tiny_shard(make_shard: Callable[..., Path],
                                            tmp_path: Path) -> None:
    shard = make_shard(count=24)
    settings = TrainSettings(steps=150, batch_size=24, learning_rate=1e-2, warmup_steps=5,
                             augment=False, seed=0)
    result = train([shard], tmp_path / "m.pt", config=SQUARE8, settings=settings,
                   preset="tiny", device="cpu")
    first = sum(result.policy_losses[:5]) / 5
    last = sum(result.policy_losses[-5:]) / 5
    assert last < 0.25 * first, (first, last)
    assert sum(result.value_losses[-5:]) / 5 < 0.5 * sum(result.value_losses[:5]) / 5
    assert result.samples_per_second > 0
    assert result.metadata.training_step == 150 and result.metadata.rows_seen == 150 * 24


def test_seed_reproduces(make_shard: Callable[..., Path], tmp_path: Path) -> None:
    shard = make_shard()
    runs = [train([shard], tmp_path / f"{name}.pt", config=SQUARE8, preset="tiny", device="cpu",
                  settings=TrainSettings(**{**QUICK.__dict__, "seed": seed}))
            for name, seed in (("a", 1), ("b", 1), ("c", 2))]
    assert runs[0].policy_losses == runs[1].policy_losses
    assert runs[0].metadata.weights_sha256 == runs[1].metadata.weights_sha256
    assert runs[0].policy_losses != runs[2].policy_losses


def test_resume_continues_where_it_stopped(make_shard: Callable[..., Path],
                                           tmp_path: Path) -> None:
    shard = make_shard()
    straight = train([shard], tmp_path / "straight.pt", config=SQUARE8, settings=QUICK,
                     preset="tiny", device="cpu")
    out = tmp_path / "resumed.pt"
    partial = train([shard], out, config=SQUARE8, settings=QUICK, preset="tiny", device="cpu",
                    stop_after=5)
    assert partial.metadata.training_step == 5
    resumed = train([shard], out, config=SQUARE8, settings=QUICK, preset="tiny", device="cpu")
    assert resumed.start_step == 5 and resumed.steps_run == QUICK.steps - 5
    assert resumed.metadata.training_step == QUICK.steps
    assert resumed.policy_losses == straight.policy_losses[5:]
    a, b = _weights(tmp_path / "straight.pt"), _weights(out)
    assert all(torch.allclose(a[name], b[name]) for name in a)


def test_resume_with_other_settings_is_refused(make_shard: Callable[..., Path],
                                               tmp_path: Path) -> None:
    shard = make_shard()
    out = tmp_path / "m.pt"
    train([shard], out, config=SQUARE8, settings=QUICK, preset="tiny", device="cpu",
          stop_after=2)
    other = TrainSettings(**{**QUICK.__dict__, "learning_rate": 1e-4})
    with pytest.raises(TrainingError, match="other settings"):
        train([shard], out, config=SQUARE8, settings=other, preset="tiny", device="cpu")


def test_training_from_a_parent_continues_its_lineage(make_shard: Callable[..., Path],
                                                      tmp_path: Path) -> None:
    shard = make_shard()
    parent = train([shard], tmp_path / "parent.pt", config=SQUARE8, settings=QUICK,
                   preset="tiny", device="cpu").metadata
    child = train([shard], tmp_path / "child.pt", config=SQUARE8, settings=QUICK,
                  init=tmp_path / "parent.pt", device="cpu").metadata
    assert child.parent_model_id == parent.model_id
    assert child.training_step == 2 * QUICK.steps
    assert child.rows_seen == 2 * QUICK.steps * QUICK.batch_size
    assert child.model_id != parent.model_id


def test_learning_rate_schedule() -> None:
    settings = TrainSettings(steps=100, learning_rate=1.0, warmup_steps=10, final_lr_fraction=0.1)
    rates = [learning_rate(step, settings) for step in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(rates[10:], rates[11:], strict=False))
    assert rates[-1] == pytest.approx(0.1, abs=0.01)


def test_empty_window_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="no training shards"):
        train([], tmp_path / "m.pt", config=SQUARE8, device="cpu")


def test_finished_run_is_not_trained_again(make_shard: Callable[..., Path],
                                           tmp_path: Path) -> None:
    shard = make_shard()
    out = tmp_path / "m.pt"
    first = train([shard], out, config=SQUARE8, settings=QUICK, preset="tiny", device="cpu")
    again = train([shard], out, config=SQUARE8, settings=QUICK, preset="tiny", device="cpu")
    assert again.steps_run == 0
    assert again.metadata.model_id == first.metadata.model_id


def test_resume_over_another_window_is_refused(make_shard: Callable[..., Path],
                                               tmp_path: Path) -> None:
    out = tmp_path / "m.pt"
    train([make_shard("a.npz")], out, config=SQUARE8, settings=QUICK, preset="tiny",
          device="cpu", stop_after=2)
    with pytest.raises(TrainingError, match="another window"):
        train([make_shard("b.npz")], out, config=SQUARE8, settings=QUICK, preset="tiny",
              device="cpu")
