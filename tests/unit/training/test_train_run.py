"""Training as long work a service drives: cancellation, progress, SIGKILL and resume.

Checks: ``should_stop`` ends a run before the next step with a checkpoint at the step reached,
and the resumed run ends with the weights and losses of an uninterrupted one; ``on_progress``
reports every step in order with the run's total and the window's size; the result carries
what ``CandidateReady`` needs (model id, step, samples seen, whole-run losses, the shard ids
given, training seconds across resumes); a trainer process killed with SIGKILL after a
checkpoint resumes from that checkpoint, its step count continuing, and ends with the weights
of an uninterrupted run; a window of several shards trains through the row-file cache.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import torch

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION
from ringrift.models import load_checkpoint, read_metadata
from ringrift.training.trainer import TrainProgress, TrainSettings, train
from ringrift.training.window import WindowShard

SQUARE8 = GameConfig("square8", 2)
QUICK = TrainSettings(steps=12, batch_size=16, learning_rate=3e-3, warmup_steps=3, seed=1)


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path, config=SQUARE8, encoder_version=ENCODER_VERSION).model.state_dict()


def _same_weights(a: Path, b: Path) -> bool:
    first, second = _weights(a), _weights(b)
    return all(torch.allclose(first[name], second[name]) for name in first)


def test_should_stop_checkpoints_and_the_run_resumes(make_shard: Callable[..., Path],
                                                     tmp_path: Path) -> None:
    shard = make_shard()
    straight = train([shard], tmp_path / "straight.pt", config=SQUARE8, settings=QUICK,
                     preset="tiny", device="cpu")
    seen: list[TrainProgress] = []
    out = tmp_path / "stopped.pt"
    stopped = train([shard], out, config=SQUARE8, settings=QUICK, preset="tiny", device="cpu",
                    on_progress=seen.append, should_stop=lambda: len(seen) >= 7)
    assert stopped.cancelled and not stopped.completed and stopped.steps_run == 7
    assert read_metadata(out).training_step == 7
    assert [p.step for p in seen] == list(range(1, 8))
    assert all(p.total_steps == QUICK.steps and p.window_rows == 48 for p in seen)
    assert all(p.samples_per_second > 0 and p.learning_rate > 0 for p in seen)
    resumed = train([shard], out, config=SQUARE8, settings=QUICK, preset="tiny", device="cpu")
    assert resumed.start_step == 7 and resumed.completed and not resumed.cancelled
    assert resumed.policy_losses == straight.policy_losses[7:]
    assert resumed.losses == straight.losses
    assert resumed.train_seconds > stopped.train_seconds
    assert _same_weights(tmp_path / "straight.pt", out)


def test_result_carries_what_candidate_ready_needs(make_shard: Callable[..., Path],
                                                   tmp_path: Path) -> None:
    shards = [WindowShard(make_shard("a.npz", count=20), shard_id="shard-a"),
              WindowShard(make_shard("b.npz", count=30, start=60), shard_id="shard-b")]
    result = train(shards, tmp_path / "m.pt", config=SQUARE8, settings=QUICK, preset="tiny",
                   device="cpu")
    assert result.completed and result.shard_ids == ["shard-a", "shard-b"]
    assert result.window_rows == 50
    assert result.model_id == read_metadata(tmp_path / "m.pt").model_id
    assert result.train_step == QUICK.steps
    assert result.samples_seen == QUICK.steps * QUICK.batch_size
    assert result.architecture == "resnet_pv-tiny"
    tail = result.policy_losses[-1:]  # 12 steps: the last tenth is the last step
    assert result.losses == {"policy": tail[0], "value": result.value_losses[-1]}
    assert result.train_seconds > 0
    assert len(list((tmp_path / "window-cache" / SQUARE8.key).glob("*.rows"))) == 2


_CHILD = """
import json, sys, time
import torch
from pathlib import Path
from ringrift.configs import GameConfig
from ringrift.training.trainer import TrainSettings, train

torch.set_num_threads(1)
shard, out, settings = sys.argv[1], sys.argv[2], TrainSettings(**json.loads(sys.argv[3]))

def report(progress):
    print(progress.step, flush=True)
    if progress.step == 6:  # the checkpoint of step 4 is written; wait here to be killed
        print("ready", flush=True)
        time.sleep(3600)

train([shard], out, config=GameConfig("square8", 2), settings=settings, preset="tiny",
      device="cpu", on_progress=report)
"""


def test_a_killed_trainer_resumes_from_its_checkpoint(make_shard: Callable[..., Path],
                                                      tmp_path: Path) -> None:
    shard = make_shard()
    settings = TrainSettings(**{**QUICK.__dict__, "checkpoint_every": 4})
    out = tmp_path / "killed.pt"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(shard), str(out), json.dumps(settings.__dict__)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        lines = []
        assert child.stdout is not None
        for line in child.stdout:  # waits on the child, however slow the machine is
            lines.append(line.strip())
            if line.strip() == "ready":
                break
        assert lines[-1:] == ["ready"], (lines, child.stderr.read() if child.stderr else "")
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert read_metadata(out).training_step == 4
    state = torch.load(out, weights_only=True)["training_state"]
    assert json.dumps(state["settings"], sort_keys=True) == json.dumps(
        settings.__dict__, sort_keys=True)

    resumed = train([shard], out, config=SQUARE8, settings=settings, preset="tiny",
                    device="cpu")
    assert resumed.start_step == 4 and resumed.steps_run == QUICK.steps - 4
    assert resumed.train_step == QUICK.steps and resumed.completed
    straight = train([shard], tmp_path / "straight.pt", config=SQUARE8, settings=settings,
                     preset="tiny", device="cpu")
    assert resumed.policy_losses == straight.policy_losses[4:]
    assert _same_weights(out, tmp_path / "straight.pt")
