"""``ringrift rules``: replay records, apply a move, list legal moves, play random games.

Inputs and outputs are the wire formats (``ringrift-wire-format.md``): states in
contract form, moves as Move objects, games as GameRecords (or traces with an
``initialState``), one record or a JSONL file of them. Bad input is reported as one
line naming the file and the field; an illegal move names its index and the reason; a
JSONL replay reports each bad record on its own summary line and carries on. The
engine is imported inside the handlers so that ``ringrift --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ringrift.cli.options import add_config_options, config_from_args
from ringrift.errors import ConfigurationError
from ringrift.game.errors import IllegalMoveError, ReplayMismatchError, WireFormatError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "rules", help="rules engine tools: replay, apply, legal-moves, play",
        description="Run the RingRift rules engine on wire-format JSON files.")
    commands = parser.add_subparsers(dest="rules_command", metavar="ACTION", required=True)

    replay = commands.add_parser(
        "replay", help="replay a GameRecord, or a JSONL file of them, and report each result",
        description="Replay a GameRecord (.json), a trace {boardType, numPlayers, "
        "initialState?, moves}, or every record of a .jsonl file (one per line). A record of "
        "RingRift's Python engine that stops mid-turn where its after-every-move victory check "
        "holds is reported as completed with endedBy after_move_check; one that stops before "
        "the game is over is incomplete. A .jsonl file prints one summary line per game and a "
        "totals line, and carries on past bad records. Exit 0 when every record reads, every "
        "move is legal and every record's winner, outcome and finalStateHash (where given) "
        "agree with the replay, 1 otherwise.")
    replay.add_argument("record", type=Path, help="GameRecord or trace JSON file, or a .jsonl "
                        "file of GameRecords")
    replay.add_argument("--fingerprints", action="store_true",
                        help="print one JSON line per move with its index, fingerprint and "
                        "compact hash (one record only)")
    replay.set_defaults(func=_replay)

    apply = commands.add_parser("apply", help="apply one move to a state; print the next state",
                                description="Print the state after MOVE as contract-form JSON.")
    apply.add_argument("--state", type=Path, required=True, help="state JSON file")
    apply.add_argument("--move", type=Path, required=True, help="move JSON file")
    apply.set_defaults(func=_apply)

    legal = commands.add_parser("legal-moves", help="print the legal moves of a state",
                                description="Print the legal moves as a JSON array of Moves.")
    legal.add_argument("--state", type=Path, required=True, help="state JSON file")
    legal.set_defaults(func=_legal_moves)

    play = commands.add_parser("play", help="play one game with random legal moves",
                               description="Play a seeded game with uniformly random legal "
                               "moves and write its GameRecord.")
    add_config_options(play)
    play.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    play.add_argument("--max-moves", type=int, default=20000,
                      help="stop an unfinished game after this many moves (default: 20000)")
    play.add_argument("--output", type=Path,
                      help="write the GameRecord here (default: standard output)")
    play.set_defaults(func=_play)


def _read_text(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigurationError(f"cannot read {path}: {error.strerror}") from None


def _load_state(path: Path) -> Any:
    from ringrift.game.replay import GameState
    from ringrift.game.wire import loads_state

    try:
        return GameState.from_wire(loads_state(_read_text(path)))
    except WireFormatError as error:
        raise WireFormatError(error.reason, f"{path}: {error.path}".rstrip(": ")) from None


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, separators=(",", ":")) + "\n")


def _replay(args: argparse.Namespace) -> int:
    if args.record.suffix == ".jsonl":
        return _replay_jsonl(args)
    from ringrift.game.fingerprint import fingerprint, simple_hash
    from ringrift.game.record import loads_record
    from ringrift.game.replay import ReplayStep, final_summary, replay_record

    record = loads_record(_read_text(args.record), str(args.record))

    def print_step(step: ReplayStep) -> None:
        text = fingerprint(step.state)
        _print_json({"index": step.index, "type": step.move.type.value,
                     "player": step.move.player, "fingerprint": text, "hash": simple_hash(text)})

    result = replay_record(record, source=str(args.record),
                           on_step=print_step if args.fingerprints else None)
    if result.result == "illegal":
        raise IllegalMoveError(result.error or "illegal move")
    if result.final_state is None:  # unreadable: a trace whose initial state is malformed
        raise WireFormatError(result.error or "unreadable record")
    _print_json({"final": True, "moves": len(record.moves), "result": result.result,
                 "endedBy": result.ended_by, **final_summary(result.final_state)})
    if result.mismatches:
        raise ReplayMismatchError(f"{args.record}: every move is legal but "
                                  + "; ".join(result.mismatches))
    return 0


def _replay_jsonl(args: argparse.Namespace) -> int:
    from ringrift.game.replay import ReplayTotals, replay_jsonl

    if args.fingerprints:
        raise ConfigurationError("--fingerprints replays one record; give a .json file, "
                                 "not a .jsonl file")
    totals = ReplayTotals()
    try:
        for result in replay_jsonl(args.record):
            totals.add(result)
            _print_json(result.summary())
    except OSError as error:
        raise ConfigurationError(f"cannot read {args.record}: {error.strerror}") from None
    _print_json(totals.summary())
    return 0 if totals.clean else 1


def _apply(args: argparse.Namespace) -> int:
    from ringrift.game.replay import Board, apply_checked
    from ringrift.game.wire import loads_move, state_to_json

    state = _load_state(args.state)
    try:
        move = loads_move(_read_text(args.move))
    except WireFormatError as error:
        raise WireFormatError(error.reason, f"{args.move}: {error.path}".rstrip(": ")) from None
    _print_json(state_to_json(apply_checked(state, move, Board.of(state)).to_wire()))
    return 0


def _legal_moves(args: argparse.Namespace) -> int:
    from ringrift.game import engine
    from ringrift.game.wire_move import move_to_json

    state = _load_state(args.state)
    _print_json([move_to_json(move) for move in engine.legal_moves(state)])
    return 0


def _play(args: argparse.Namespace) -> int:
    from ringrift.game.random_play import play_random
    from ringrift.game.record import dumps_record
    from ringrift.game.replay import final_summary

    record, state = play_random(config_from_args(args), args.seed, args.max_moves)
    text = dumps_record(record)
    if args.output is None:
        sys.stdout.write(text + "\n")
    else:
        args.output.write_text(text + "\n", encoding="utf-8")
        _print_json({"output": str(args.output), "moves": len(record.moves),
                     **final_summary(state)})
    return 0
