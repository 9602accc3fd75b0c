"""The policy loss is normalised over each sample's legal moves, as inference is.

``NetworkEvaluator`` softmaxes the logits of the legal moves only, so the trainer must do the
same. With a softmax over the whole index space instead, a tiny network puts most of its mass
on illegal indices, and after masking the moves whose logit is easy to raise everywhere (the
global slots: ``skip_capture``, ``skip_territory_processing``...) come out far above their
target; in the single-process loop the pipeline replaced, the policy-only player then skipped captures and lost to the
random player. Checks: the loss ignores logits outside the legal moves and equals the
cross-entropy of the masked softmax; and a tiny network trained on real positions whose target
gives ``skip_capture`` a small share ends with a masked prior for it close to that share.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import torch

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION, Encoder
from ringrift.game.engine import apply_move, initial_state, legal_moves
from ringrift.game.move import MoveType
from ringrift.models import load_checkpoint
from ringrift.search.network import NetworkEvaluator
from ringrift.training.shards import Sample, write_shard
from ringrift.training.trainer import TrainSettings, train
from tests.unit.training.conftest import metadata_for

SQUARE8 = GameConfig("square8", 2)


def test_loss_is_the_cross_entropy_over_the_legal_moves() -> None:
    from ringrift.training.loss import policy_cross_entropy

    torch.manual_seed(0)
    logits = torch.randn(2, 50)
    rows = torch.tensor([0, 0, 0, 1, 1])
    cols = torch.tensor([3, 7, 9, 1, 40])
    probs = torch.tensor([0.5, 0.25, 0.25, 0.9, 0.1])
    expected = 0.0
    for row in (0, 1):
        mine = rows == row
        log_p = torch.log_softmax(logits[row, cols[mine]], dim=0)
        expected -= float((log_p * probs[mine]).sum())
    loss = policy_cross_entropy(logits, rows, cols, probs)
    assert math.isclose(float(loss), expected / 2, rel_tol=1e-5)
    pushed = logits.clone()
    pushed[:, [0, 2, 20, 49]] += 30.0  # illegal indices: must not matter
    assert math.isclose(float(policy_cross_entropy(pushed, rows, cols, probs)), expected / 2,
                        rel_tol=1e-5)


def _capture_positions(count: int) -> list:
    """Real square8 positions in the capture phase (a capture or ``skip_capture``)."""
    rng = random.Random(7)
    found = []
    while len(found) < count:
        state = initial_state(SQUARE8)
        while not state.is_terminal and len(found) < count:
            moves = legal_moves(state)
            if len(moves) > 1 and any(m.type is MoveType.SKIP_CAPTURE for m in moves):
                found.append((state, moves))
            state = apply_move(state, rng.choice(moves))
    return found


def test_trained_prior_of_a_global_slot_matches_its_target(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    encoder = Encoder.for_config(SQUARE8)
    positions = _capture_positions(96)
    samples = []
    for state, moves in positions:
        skip = np.array([m.type is MoveType.SKIP_CAPTURE for m in moves])
        probs = np.where(skip, 0.1, 0.9 / (len(moves) - 1)).astype(np.float32)
        planes, globals_ = encoder.encode(state)
        samples.append(Sample(planes, globals_, encoder.legal_indices(state, moves), probs,
                              np.zeros(2, dtype=np.float32), game_id="g"))
    shard = tmp_path / "capture.npz"
    write_shard(shard, samples, metadata_for(SQUARE8))
    settings = TrainSettings(steps=60, batch_size=24, learning_rate=1e-2, warmup_steps=5,
                             augment=False, seed=0)
    train([shard], tmp_path / "m.pt", config=SQUARE8, settings=settings, preset="tiny",
          device="cpu")
    loaded = load_checkpoint(tmp_path / "m.pt", config=SQUARE8, encoder_version=ENCODER_VERSION)
    evaluator = NetworkEvaluator(loaded, encoder, device="cpu")
    states, legal = zip(*positions, strict=True)
    shares = [float(e.priors[[m.type is MoveType.SKIP_CAPTURE for m in moves]].sum())
              for e, moves in zip(evaluator.evaluate(states, legal), legal, strict=True)]
    # Target share 0.1: the fixed loss gives about 0.10 (seeds 0-3); a softmax over the whole
    # index space gave 0.33-0.39 here (and 0.80 against a 0.32 target in the loop's data).
    assert np.mean(shares) < 0.2, np.mean(shares)
