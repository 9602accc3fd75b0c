"""``ringrift loop``: self-play, train, evaluate and promote in one process, without Kafka.

This is what ``make run`` starts until the pipeline's services exist. Heavy imports (torch, the
engine's compiled kernels) happen inside the handler so ``ringrift --help`` stays fast.
"""

from __future__ import annotations

import argparse
from dataclasses import fields

from ringrift.cli.options import add_config_options
from ringrift.errors import ConfigurationError
from ringrift.loop.settings import LoopSettings

_DEFAULTS = LoopSettings()

# Command-line flag -> (settings field, help). Types and defaults come from LoopSettings.
_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("--generations", "generations", "generations to complete in total; a rerun resumes"),
    ("--games-per-gen", "games_per_generation", "self-play games per generation"),
    ("--simulations", "simulations", "Gumbel search simulations per self-play move"),
    ("--eval-simulations", "eval_simulations", "simulations per move in evaluation matches"),
    ("--eval-games", "eval_games", "games per evaluation match"),
    ("--baseline-every", "baseline_every", "play the random, heuristic and policy-only "
     "matches every this many generations and at the last (the gate match runs every one)"),
    ("--preset", "preset", "model size preset (tiny, small, medium, large)"),
    ("--train-steps", "train_steps", "optimizer steps per generation"),
    ("--batch-size", "batch_size", "training batch size"),
    ("--learning-rate", "learning_rate", "peak learning rate"),
    ("--window", "window", "train on the shards of this many recent generations"),
    ("--gate", "gate_min_score", "promote the new model to self-play when its score by rank "
     "against the current self-play model is at least this"),
    ("--concurrency", "concurrency", "games played in lockstep (one network call per tick)"),
    ("--max-moves", "max_moves", "safety cap on moves per game"),
    ("--seed", "seed", "base seed of the run"),
    ("--threads", "threads", "torch CPU threads"),
    ("--out", "out", "run directory (state, shards, game records, models)"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "loop", help="run the training loop on one machine (self-play, train, evaluate)",
        description="Self-play with Gumbel search, write shards, train, evaluate the new model "
        "against the previous one and the random and heuristic players, and print one table "
        "row per generation. State lives under --out; running the same command again resumes "
        "from the last completed generation.")
    add_config_options(parser)
    types = {field.name: field.type for field in fields(LoopSettings)}
    for flag, name, help_text in _OPTIONS:
        default = getattr(_DEFAULTS, name)
        kind = {"int": int, "float": float, "str": str}[str(types[name])]
        parser.add_argument(flag, dest=name, type=kind, default=default,
                            help=f"{help_text} (default: {default})")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    parser.add_argument("--no-heuristic", dest="heuristic_eval", action="store_false",
                        help="skip the heuristic-player match each generation")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from ringrift.loop.runner import run_loop

    values = {field.name: getattr(args, field.name) for field in fields(LoopSettings)
              if hasattr(args, field.name)}
    values["board"], values["players"] = args.board, args.players
    if values["out"] == _DEFAULTS.out and (args.board, args.players) != ("square8", 2):
        values["out"] = f"var/loop/{args.board}_{args.players}p"
    settings = LoopSettings(**values)
    for name in ("generations", "games_per_generation", "simulations", "eval_games",
                 "baseline_every", "train_steps", "batch_size", "concurrency"):
        if getattr(settings, name) < 1:
            raise ConfigurationError(f"--{name.replace('_', '-')} must be at least 1")
    run_loop(settings, echo=lambda line: print(line, flush=True))
    return 0
