"""The gate's operating characteristics: pass probability and games to a decision, per Elo.

Simulates thousands of gate matches per true Elo difference and player count with the gate's
own test code (:mod:`ringrift.evaluation.characteristics`; no networks) and prints, per case,
the share promoted, rejected and inconclusive and the mean games to a decision. Every figure is seeded and reproducible; they do not depend on the
machine.

Run with ``make bench-gate`` (``BENCH_ARGS="--elo1 30 --beta 0.05 --runs 10000"``).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import fields

from ringrift.evaluation import GateSettings
from ringrift.evaluation.characteristics import (
    OperatingPoint,
    OutcomeModel,
    simulate_gate,
)

_DEFAULTS = GateSettings()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for field in fields(GateSettings):
        if field.name != "promote_inconclusive":
            parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default),
                                default=field.default,
                                help=f"gate setting (default: {field.default})")
    parser.add_argument("--elos", type=float, nargs="+", default=[-50, 0, 30, 50, 100, 200],
                        help="true Elo differences of the candidate (default: -50 0 30 50 100 200)")
    parser.add_argument("--players", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--runs", type=int, default=4000, help="simulated matches per case")
    parser.add_argument("--tie-rate", type=float, default=OutcomeModel.tie_rate,
                        help="chance two neighbouring places tie (draws for 2 players)")
    parser.add_argument("--seat-advantage", type=float, default=OutcomeModel.first_seat_advantage,
                        help="log-strength bonus of seat 1")
    args = parser.parse_args()
    settings = GateSettings(**{field.name: getattr(args, field.name)
                               for field in fields(GateSettings)
                               if field.name != "promote_inconclusive"})
    model = OutcomeModel(args.tie_rate, args.seat_advantage)
    print(f"gate: elo0 {settings.elo0:g}, elo1 {settings.elo1:g}, alpha {settings.alpha:g}, "
          f"beta {settings.beta:g}, batches of {settings.batch_games} games, at most "
          f"{settings.max_games}; {args.runs} simulated matches per row; ties "
          f"{model.tie_rate:g}, seat-1 advantage {model.first_seat_advantage:g}")
    started = time.perf_counter()
    for players in args.players:
        unit = "pairs, pentanomial" if players == 2 else "games, score by rank"
        print(f"\n{players} players ({unit})")
        print(_header())
        for index, elo in enumerate(args.elos):
            print(_row(simulate_gate(settings, elo, players, runs=args.runs, seed=index,
                                     model=model)))
    print(f"\n({time.perf_counter() - started:.1f} s)")


def _header() -> str:
    return f"{'Elo':>6} {'promoted':>9} {'rejected':>9} {'inconcl.':>9} {'mean games':>11}"


def _row(point: OperatingPoint) -> str:
    return (f"{point.elo:>+6.0f} {point.pass_rate:>9.3f} {point.fail_rate:>9.3f} "
            f"{point.inconclusive_rate:>9.3f} {point.mean_games:>11.0f}")


if __name__ == "__main__":
    main()
