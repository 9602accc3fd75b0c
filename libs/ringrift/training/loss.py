"""The training loss and one optimizer step.

Loss = policy cross-entropy against the search's improved policy, the softmax taken over each
sample's legal moves only as at inference, + a weighted mean squared error of the per-seat
values. On CUDA the forward pass runs under ``torch.autocast`` (bfloat16); the losses are
computed in float32.
"""

from __future__ import annotations

from contextlib import nullcontext

import torch
from torch.nn import functional as F

from ringrift.training.batches import Batch
from ringrift.training.distributed import Placement
from ringrift.training.settings import TrainSettings, learning_rate


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


def train_step(net: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: Batch, step: int,
               settings: TrainSettings, place: Placement) -> tuple[float, float]:
    """One optimizer step at the learning rate of ``step``; returns (policy loss, value loss)."""
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
