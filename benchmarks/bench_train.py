"""Training throughput: samples per second of the trainer, on the CPU by default.

Builds a synthetic shard with the encoder's shapes (random sparse planes, 30-move
sparse policies, values from random rankings: the trainer's cost depends on the
shapes, not on the data), then runs :func:`ringrift.training.trainer.train` for
a few steps and prints samples/s and milliseconds per step, once per thread
count asked. Symmetry augmentation is on, as in real training.

Run with ``make bench-train`` (``BENCH_ARGS="--board hex8 --preset medium"``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION, Encoder
from ringrift.models import get_preset
from ringrift.models.network import PolicyValueNet
from ringrift.training.shards import Sample, ShardMetadata, write_shard
from ringrift.training.targets import ranking_to_values
from ringrift.training.trainer import TrainSettings, train


def synthetic_shard(path: Path, config: GameConfig, count: int, seed: int) -> None:
    encoder = Encoder.for_config(config)
    shape = encoder.shape
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(count):
        planes = (rng.random((shape.in_channels, shape.height, shape.width)) < 0.1)
        indices = rng.choice(encoder.policy_size, size=30, replace=False)
        probs = rng.dirichlet(np.ones(30)).astype(np.float32)
        ranks = rng.permutation(config.num_players) + 1
        samples.append(Sample(planes.astype(np.float32),
                              rng.random(shape.num_globals, dtype=np.float32),
                              indices, probs, ranking_to_values(ranks)))
    write_shard(path, samples, ShardMetadata(
        board_type=config.board_type, num_players=config.num_players,
        encoder_version=ENCODER_VERSION, policy_size=encoder.policy_size))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="square8")
    parser.add_argument("--players", type=int, default=2)
    parser.add_argument("--preset", default=None, help="model preset (default: the board's)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--samples", type=int, default=1024, help="samples in the shard")
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2],
                        help="torch intra-op thread counts to measure (default: 1 2)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    config = GameConfig(args.board, args.players)
    preset = get_preset(args.preset, config.board_type)
    encoder = Encoder.for_config(config)
    params = sum(p.numel() for p in PolicyValueNet(encoder.shape, preset).parameters())
    print(f"bench-train: {config.key}, preset {preset.name} ({preset.blocks} blocks x "
          f"{preset.channels} channels, {params / 1e6:.2f} M parameters), policy size "
          f"{encoder.policy_size}, batch {args.batch_size}, {args.steps} steps, "
          f"device {args.device}")
    with tempfile.TemporaryDirectory() as tmp:
        shard = Path(tmp) / "bench.npz"
        synthetic_shard(shard, config, args.samples, seed=0)
        for threads in args.threads:
            torch.set_num_threads(threads)
            settings = TrainSettings(steps=args.steps, batch_size=args.batch_size,
                                     warmup_steps=2, seed=0)
            # One short run first so that one-time costs (allocator, kernels) are not timed.
            train([shard], Path(tmp) / "warm.pt", config=config, settings=TrainSettings(
                steps=2, batch_size=args.batch_size, warmup_steps=1), preset=preset.name,
                device=args.device, resume=False)
            began = time.perf_counter()
            result = train([shard], Path(tmp) / f"m{threads}.pt", config=config,
                           settings=settings, preset=preset.name, device=args.device,
                           resume=False)
            wall = time.perf_counter() - began
            print(f"  threads {threads}: {result.samples_per_second:8.0f} samples/s "
                  f"({1000 * wall / args.steps:6.1f} ms/step incl. checkpoint write)")


if __name__ == "__main__":
    main()
