"""Where the trainer runs: one CPU process, one GPU, or DistributedDataParallel under torchrun.

DistributedDataParallel is used only when torchrun started us (``LOCAL_RANK`` is
set, any number of processes) *and* CUDA is present; otherwise training is a plain single process, so the same
code path runs on a laptop, in CI and on a GPU node.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Placement:
    """The device of this process and its place among the training processes."""

    device: torch.device
    rank: int = 0
    world_size: int = 1
    distributed: bool = False
    """True under torchrun with CUDA: the model is wrapped in DistributedDataParallel."""

    @property
    def is_main(self) -> bool:
        """Only the main process writes checkpoints and shows progress."""
        return self.rank == 0


def placement(device: str | None = None) -> Placement:
    """Pick the device; join the torchrun process group when there is one and CUDA is present.

    Args:
        device: force a device (``"cpu"``, ``"cuda"``); None picks CUDA when available.
    """
    use_cuda = torch.cuda.is_available() if device is None else device.startswith("cuda")
    if "LOCAL_RANK" in os.environ and use_cuda:
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local_rank)
        if not dist.is_initialized():
            dist.init_process_group("nccl")
        return Placement(torch.device("cuda", local_rank), dist.get_rank(), dist.get_world_size(),
                         distributed=True)
    if use_cuda:
        return Placement(torch.device(device or "cuda"))
    return Placement(torch.device("cpu"))


def barrier(place: Placement) -> None:
    """Wait for every process (no-op when not distributed)."""
    if place.distributed:
        dist.barrier()


def any_rank(flag: bool, place: Placement) -> bool:
    """True on every process if ``flag`` is true on any (so that all stop at the same step)."""
    if not place.distributed:
        return flag
    value = torch.tensor([1 if flag else 0], device=place.device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())
