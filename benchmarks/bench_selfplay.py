"""Self-play throughput: positions per second with Gumbel search and a network, in lockstep.

Plays ``--games`` self-play games of one config with an (untrained) network of ``--preset``
inside Gumbel search at ``--simulations`` per move, ``--concurrency`` games in lockstep (their
leaves go to the network in one call), and prints positions/s (every move, bookkeeping
included), searched decisions/s, network evaluations/s, the mean batch size, and the share of
wall time spent in the network. Untrained and trained networks of one preset cost the same;
game lengths differ, which is why positions/s, not games/s, is the headline figure.

Run with ``make bench-learn`` (``BENCH_ARGS="--simulations 32 --concurrency 64"`` to vary).
"""

from __future__ import annotations

import argparse

import torch

from ringrift.configs import BOARD_TYPES, GameConfig
from ringrift.encoding import Encoder
from ringrift.game import initial_state
from ringrift.models import build_model
from ringrift.search import GumbelConfig, engine_rules
from ringrift.search.network import NetworkEvaluator, default_device
from ringrift.selfplay import SelfPlaySettings, play_games


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--board", choices=BOARD_TYPES, default="square8")
    parser.add_argument("--players", type=int, default=2)
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--simulations", type=int, default=16)
    parser.add_argument("--games", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    config = GameConfig(args.board, args.players)
    device = args.device or default_device()
    evaluator = NetworkEvaluator(build_model(config, args.preset), Encoder.for_config(config),
                                 device=device)
    rules = engine_rules()

    def new_game():
        return initial_state(config, pie_rule=False)

    # Warm-up: compiles the engine's kernels (numba cache) and the network's first call.
    play_games(new_game, rules, evaluator, 1,
               SelfPlaySettings(GumbelConfig(simulations=2), max_moves=40), seed=args.seed)
    evaluator.calls = evaluator.positions_evaluated = 0
    evaluator.seconds = 0.0

    settings = SelfPlaySettings(GumbelConfig(simulations=args.simulations),
                                concurrency=args.concurrency, max_moves=2000)
    batch = play_games(new_game, rules, evaluator, args.games, settings, seed=args.seed + 1)
    seconds = batch.seconds
    print(f"self-play {config.key}: preset {args.preset}, {args.simulations} simulations/move, "
          f"{args.concurrency} games in lockstep, device {device}, {args.threads} torch thread(s)")
    print(f"  games                 {len(batch.games)} "
          f"(mean length {batch.positions / max(1, len(batch.games)):.0f} moves, "
          f"{sum(g.truncated for g in batch.games)} truncated)")
    print(f"  wall time             {seconds:.1f} s")
    print(f"  positions/s           {batch.positions / seconds:.1f}")
    print(f"  searched decisions/s  {batch.decisions / seconds:.1f}")
    print(f"  network evaluations/s {evaluator.positions_evaluated / seconds:.1f} "
          f"(mean batch {evaluator.positions_evaluated / max(1, evaluator.calls):.1f})")
    print(f"  time in network       {100 * evaluator.seconds / seconds:.0f}%")


if __name__ == "__main__":
    main()
