"""``ringrift match``: play a trained model against a baseline or another model.

The model plays as it does in evaluation (its network inside Gumbel search, or alone with
``--policy-only``), in rounds with it in every seat equally often (for 2 players, pairs of
games with swapped seats). It prints the record (W-D-L: first alone, shared first, other),
the score by rank (a draw counts half; the mean of (N - rank) / (N - 1) for 3-4 players) with
its 95% interval, the Elo difference that score means with its interval, and for 2 players
the pentanomial counts of the pairs (LL, LD, DD+WL, WD, WW). With ``--sprt`` the match is the
promotion gate's sequential test instead: batches until the test decides, at most ``--games``
(inconclusive there). The board and player count come from the checkpoint.
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "match", help="play a trained model against random, heuristic or another model",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="checkpoint of the model to evaluate")
    parser.add_argument("--opponent", default="random",
                        help="random, heuristic, uniform (search without a network), or the "
                        "path of another checkpoint (default: random)")
    parser.add_argument("--games", type=int, default=100,
                        help="games to play, rounded up to whole rounds (default: 100)")
    parser.add_argument("--sprt", action="store_true",
                        help="play the promotion gate's sequential test, with --games as its "
                        "maximum (the gate's default maximum is 400)")
    parser.add_argument("--simulations", type=int, default=16,
                        help="Gumbel simulations per move of search players (default: 16)")
    parser.add_argument("--policy-only", action="store_true",
                        help="the model plays its network's policy without search")
    parser.add_argument("--max-moves", type=int, default=600,
                        help="safety cap per game; a capped game is a tie (default: 600)")
    parser.add_argument("--seed", type=int, default=0, help="match seed (default: 0)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from ringrift.errors import ConfigurationError
    from ringrift.evaluation import (
        GateSettings,
        MatchOptions,
        MatchPlan,
        load_for_play,
        play_gate_match,
        play_match,
        player_for,
        policy_player,
        search_player,
    )
    from ringrift.game import initial_state
    from ringrift.models import read_metadata
    from ringrift.search import engine_rules

    if args.games < 1:
        raise ConfigurationError("--games must be at least 1")
    torch.set_num_threads(args.threads)
    config = read_metadata(args.model).config
    rules = engine_rules()
    model = load_for_play(args.model, config=config, device=args.device)
    player = (policy_player(model) if args.policy_only
              else search_player(model, rules, args.simulations))
    opponent = player_for(args.opponent, config=config, rules=rules,
                          simulations=args.simulations, device=args.device)
    options = MatchOptions(max_moves=args.max_moves,
                           description=f"model vs {args.opponent}")
    kind = "policy" if args.policy_only else "search"
    prefix = f"{config.key}: model {kind} vs {args.opponent}"
    if args.sprt:
        gate = GateSettings(batch_games=min(args.games, GateSettings.batch_games),
                            max_games=args.games)
        decision = play_gate_match(gate, gate.plan(config.num_players, args.seed), player,
                                   opponent, lambda: initial_state(config), rules,
                                   options=options).decision
        print(f"{prefix}: {decision.summary}")
        print(f"{prefix}: {decision.describe()}")
        return 0
    plan = MatchPlan.from_games(config.num_players, args.seed, batch_games=args.games,
                                max_games=args.games)
    tally = play_match(plan, player, opponent, lambda: initial_state(config), rules,
                       options=options)
    print(f"{prefix}: {tally.summary()}")
    return 0

