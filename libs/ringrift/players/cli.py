"""``ringrift match``: play a trained model against a baseline or another model.

The model plays as it does in the loop's evaluation (its network inside Gumbel search, or
alone with ``--policy-only``); seats rotate every game; the result is a score (a draw counts
half) with its Wilson 95% interval. The board and player count come from the checkpoint.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ringrift.configs import GameConfig

if TYPE_CHECKING:
    from ringrift.search import Evaluator

def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "match", help="play a trained model against random, heuristic or another model",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="checkpoint of the model to evaluate")
    parser.add_argument("--opponent", default="random",
                        help="random, heuristic, or the path of another checkpoint "
                        "(default: random)")
    parser.add_argument("--games", type=int, default=100, help="games to play (default: 100)")
    parser.add_argument("--simulations", type=int, default=16,
                        help="Gumbel simulations per move of search players (default: 16)")
    parser.add_argument("--policy-only", action="store_true",
                        help="the model plays its network's policy without search")
    parser.add_argument("--seed", type=int, default=0, help="base seed (default: 0)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from ringrift.errors import ConfigurationError
    from ringrift.game import initial_state
    from ringrift.players import PolicyPlayer, RandomPlayer, SearchPlayer, play_match
    from ringrift.players.heuristic import HeuristicPlayer
    from ringrift.search import GumbelConfig
    from ringrift.search.rules import engine_rules

    if args.games < 1:
        raise ConfigurationError("--games must be at least 1")
    torch.set_num_threads(args.threads)
    config = _model_config(args.model)
    rules = engine_rules()
    search = GumbelConfig(simulations=args.simulations)
    candidate = _evaluator(args.model, config, args.device)
    player = (PolicyPlayer(candidate, name="model") if args.policy_only
              else SearchPlayer(candidate, rules, search, name="model"))
    if args.opponent == "random":
        opponent = RandomPlayer()
    elif args.opponent == "heuristic":
        opponent = HeuristicPlayer(rules)
    else:
        opponent = SearchPlayer(_evaluator(args.opponent, config, args.device), rules, search,
                                name="opponent")
    result = play_match([player] + [opponent] * (config.num_players - 1),
                        lambda: initial_state(config), rules, args.games, seed=args.seed,
                        description=f"model vs {args.opponent}")
    record = result.records[0]
    low, high = record.interval
    print(f"{config.key}: model {'policy' if args.policy_only else 'search'} vs {args.opponent}: "
          f"{record.wins}-{record.draws}-{record.losses} (W-D-L), score {record.score:.3f} "
          f"[{low:.3f}, {high:.3f}] over {record.games} games")
    return 0


def _model_config(path: str) -> GameConfig:
    from ringrift.models.checkpoint import read_metadata

    return read_metadata(path).config


def _evaluator(path: str, config: GameConfig, device: str | None) -> Evaluator:
    from ringrift.encoding import ENCODER_VERSION, Encoder
    from ringrift.models import load_checkpoint
    from ringrift.search.network import NetworkEvaluator

    loaded = load_checkpoint(path, config=config, encoder_version=ENCODER_VERSION,
                             device=device or "cpu")
    return NetworkEvaluator(loaded, Encoder.for_config(config), device=device)
