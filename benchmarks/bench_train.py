"""Training throughput and memory over windows of 1x and 10x the size, on the CPU by default.

Writes synthetic shards with the encoder's shapes (random sparse planes, 30-move sparse
policies, values from random rankings: the trainer's cost depends on the shapes, not on the
data), then trains on a window of ``--shards`` of them and on one ten times as large, each in
a fresh process so that its peak resident memory (``ru_maxrss``) is its own. Each run starts
with an empty row-file cache, so it also converts its window (reported apart); samples/s is
the training steps' only (also per CPU-second of the process, which a busy machine changes
less than wall-clock speed); the time to read and augment one batch (what a GPU would wait for
without the trainer's read-ahead thread) is timed apart. Symmetry augmentation is on, as in
real training. The figure that matters for memory is the difference between the two peaks:
it stays flat because rows are read a batch at a time, never the window at once.

Run with ``make bench-train`` (``BENCH_ARGS="--board hex8 --preset medium --threads 2"``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION, Encoder
from ringrift.models import get_preset
from ringrift.models.network import PolicyValueNet
from ringrift.training.shards import ShardData, ShardMetadata, write_shard
from ringrift.training.targets import ranking_to_values

POLICY_MOVES = 30
BATCHES_TIMED = 50


def synthetic_shard(path: Path, config: GameConfig, count: int, seed: int) -> None:
    """A shard of ``count`` random samples with the encoder's shapes for ``config``."""
    encoder = Encoder.for_config(config)
    shape = encoder.shape
    rng = np.random.default_rng(seed)
    planes = (rng.random((count, shape.in_channels, shape.height, shape.width)) < 0.1)
    # Distinct, increasing indices: random gaps that cannot reach past the policy size.
    gaps = rng.integers(1, encoder.policy_size // POLICY_MOVES, size=(count, POLICY_MOVES))
    rankings = np.stack([ranking_to_values(np.array(p) + 1) for p in
                         itertools.permutations(range(config.num_players))])
    data = ShardData(
        planes=planes.astype(np.float32),
        globals=rng.random((count, shape.num_globals), dtype=np.float32),
        policy_offsets=np.arange(0, count * POLICY_MOVES + 1, POLICY_MOVES, dtype=np.int64),
        policy_indices=(np.cumsum(gaps, axis=1) - 1).reshape(-1),
        policy_probs=rng.dirichlet(np.ones(POLICY_MOVES), size=count).astype(np.float32)
        .reshape(-1),
        values=rankings[rng.integers(0, len(rankings), size=count)],
        game_index=np.full(count, -1, dtype=np.int32),
        metadata=ShardMetadata(board_type=config.board_type, num_players=config.num_players,
                               encoder_version=ENCODER_VERSION, policy_size=encoder.policy_size))
    write_shard(path, data, data.metadata)


def measure(args: argparse.Namespace, shards: list[Path], work: Path) -> dict[str, float]:
    """One training run in this process over ``shards``; its figures as a dict."""
    import torch

    from ringrift.encoding.symmetry import symmetries
    from ringrift.training.batches import BatchSampler
    from ringrift.training.trainer import TrainSettings, train
    from ringrift.training.window import open_window

    torch.set_num_threads(args.threads)
    config = GameConfig(args.board, args.players)
    encoder = Encoder.for_config(config)
    began = time.perf_counter()
    with open_window(shards, config, work / "cache", encoder_version=ENCODER_VERSION,
                     policy_size=encoder.policy_size) as window:
        rows = len(window)
    convert_seconds = time.perf_counter() - began
    rss_after_convert = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # A short run first so that one-time costs (allocator, kernels) are not timed.
    train(shards, work / "warm.pt", config=config, preset=args.preset, device=args.device,
          cache_dir=work / "cache", resume=False,
          settings=TrainSettings(steps=2, batch_size=args.batch_size, warmup_steps=1))
    cpu_began = time.process_time()
    result = train(shards, work / "model.pt", config=config, preset=args.preset,
                   device=args.device, cache_dir=work / "cache", resume=False,
                   settings=TrainSettings(steps=args.steps, batch_size=args.batch_size,
                                          warmup_steps=2, seed=0))
    cpu_seconds = time.process_time() - cpu_began
    with open_window(shards, config, work / "cache", encoder_version=ENCODER_VERSION,
                     policy_size=encoder.policy_size) as window:
        sampler = BatchSampler(window, symmetries(config), args.batch_size, seed=1)
        began = time.perf_counter()
        for step in range(BATCHES_TIMED):
            sampler.batch(step)
        batch_ms = 1000 * (time.perf_counter() - began) / BATCHES_TIMED
    return {"rows": rows, "convert_seconds": convert_seconds, "batch_ms": batch_ms,
            "samples_per_second": result.samples_per_second,
            "samples_per_cpu_second": args.steps * args.batch_size / max(cpu_seconds, 1e-9),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_rss_convert_mb": rss_after_convert,
            "cache_mb": sum(p.stat().st_size for p in (work / "cache").rglob("*.rows")) / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="square8")
    parser.add_argument("--players", type=int, default=2)
    parser.add_argument("--preset", default=None, help="model preset (default: the board's)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--shards", type=int, default=2, help="shards in the 1x window")
    parser.add_argument("--samples", type=int, default=5000, help="samples per shard")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--measure", nargs=2, metavar=("WORK", "SHARDS_JSON"),
                        help=argparse.SUPPRESS)  # internal: run one window in this process
    args = parser.parse_args()
    if args.measure:
        work, shard_list = Path(args.measure[0]), json.loads(args.measure[1])
        print(json.dumps(measure(args, [Path(s) for s in shard_list], work)))
        return

    config = GameConfig(args.board, args.players)
    preset = get_preset(args.preset, config.board_type)
    encoder = Encoder.for_config(config)
    params = sum(p.numel() for p in PolicyValueNet(encoder.shape, preset).parameters())
    print(f"bench-train: {config.key}, preset {preset.name} ({preset.blocks} blocks x "
          f"{preset.channels} channels, {params / 1e6:.2f} M parameters), policy size "
          f"{encoder.policy_size}, batch {args.batch_size}, {args.steps} steps, "
          f"{args.threads} thread(s), device {args.device}")
    with tempfile.TemporaryDirectory() as tmp:
        shards = []
        for i in range(10 * args.shards):
            shards.append(Path(tmp) / f"shard-{i:03d}.npz")
            synthetic_shard(shards[-1], config, args.samples, seed=i)
        shard_mb = sum(p.stat().st_size for p in shards) / 2**20
        print(f"  {len(shards)} synthetic shards of {args.samples} samples "
              f"({shard_mb:.0f} MB compressed)")
        peaks = []
        for factor in (1, 10):
            work = Path(tmp) / f"x{factor}"
            work.mkdir()
            command = [sys.executable, __file__, *_passed(args), "--measure", str(work),
                       json.dumps([str(s) for s in shards[:factor * args.shards]])]
            figures = json.loads(subprocess.run(command, check=True, capture_output=True,
                                                text=True).stdout.splitlines()[-1])
            peaks.append(figures["peak_rss_mb"])
            print(f"  window {factor:>2}x: {figures['rows']:>9,.0f} samples, "
                  f"{figures['samples_per_second']:7.0f} samples/s "
                  f"({figures['samples_per_cpu_second']:.0f} per CPU-second), peak RSS "
                  f"{figures['peak_rss_mb']:6.0f} MB (after conversion "
                  f"{figures['peak_rss_convert_mb']:4.0f} MB); batch read + augmented in "
                  f"{figures['batch_ms']:5.1f} ms; converted in "
                  f"{figures['convert_seconds']:5.1f} s to {figures['cache_mb']:6.0f} MB of "
                  "row files")
        print(f"  peak RSS 10x - 1x: {peaks[1] - peaks[0]:+.0f} MB")


def _passed(args: argparse.Namespace) -> list[str]:
    """The options of this run, for the measuring child processes."""
    options = ["--board", args.board, "--players", str(args.players), "--batch-size",
               str(args.batch_size), "--steps", str(args.steps), "--threads", str(args.threads),
               "--device", args.device]
    return options + (["--preset", args.preset] if args.preset else [])


if __name__ == "__main__":
    main()
