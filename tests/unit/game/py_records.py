"""Games of our engine rewritten the way RingRift's Python engine ("PY") records them.

PY's records carry placeholder values in fields that do not apply to a move's type
(wire-format §5.5) and end the game after the move at which its after-every-move
victory check holds (rules §12.1, §16 D3). Tests play games with our engine and
rewrite their records into those shapes, so the readers can be checked against games
whose true outcome is known.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ringrift.configs import GameConfig
from ringrift.game import engine
from ringrift.game.move import Move, MoveType
from ringrift.game.record import GameRecord, record_to_json
from ringrift.game.replay import GameState
from ringrift.game.wire import WireState

Shape = Callable[[dict[str, Any], int, str], bool]
_BOOKKEEPING = ("no_placement_action", "no_movement_action", "no_line_action",
                "no_territory_action")
_MOVE_RECORD_FIELDS = ("from", "to", "captureTarget", "placementCount", "placedOnStack",
                       "formedLines", "collapsedMarkers", "disconnectedRegions",
                       "eliminatedRings", "rrn", "mctsPolicy")


def _forced_elimination(move: dict[str, Any], index: int, board: str) -> bool:
    if move["type"] != "forced_elimination":
        return False
    move.update(id="simulated", placementCount=0, placedOnStack=False)
    return True


def _simulated_id(move: dict[str, Any], index: int, board: str) -> bool:
    if move["type"] not in ("place_ring", "move_stack", "skip_placement"):
        return False
    move["id"] = "simulated"
    return True


def _skip_placement_target(move: dict[str, Any], index: int, board: str) -> bool:
    if move["type"] != "skip_placement":
        return False
    move["to"] = {"x": 42, "y": -7}  # not even a cell: PY does not read it either
    return True


def _bookkeeping_origin(move: dict[str, Any], index: int, board: str) -> bool:
    if move["type"] not in _BOOKKEEPING:
        return False
    move["to"] = {"x": 0, "y": 0}  # no z, on hex boards too
    return True


def _skip_recovery_without_to(move: dict[str, Any], index: int, board: str) -> bool:
    if move["type"] != "skip_recovery":
        return False
    move.pop("to", None)
    return True


def _line_reward_move_number(move: dict[str, Any], index: int, board: str) -> bool:
    if move["type"] != "eliminate_rings_from_stack" or move.get("eliminationContext") != "line":
        return False
    move["moveNumber"] = index  # one less than its 1-based index
    return True


def _descriptive_id(move: dict[str, Any], index: int, board: str) -> bool:
    if move["type"] in ("place_ring", "move_stack", "skip_placement", "forced_elimination"):
        return False
    move["id"] = f"{move['type'].replace('_', '-')}-{index}-0,3,5-all"
    return True


def _null_fields(move: dict[str, Any], index: int, board: str) -> bool:
    for name in _MOVE_RECORD_FIELDS:
        move.setdefault(name, None)
    for name in ("from", "to", "captureTarget"):
        if isinstance(move.get(name), dict) and board.startswith("square"):
            move[name]["z"] = None
    return True


def _is_line_reward(move: Move) -> bool:
    return move.type is MoveType.ELIMINATE_RINGS_FROM_STACK and move.elimination_context == "line"


def _of(kind: MoveType) -> Callable[[Move], bool]:
    return lambda move: move.type is kind


@dataclass(frozen=True)
class PlaceholderShape:
    """One shape of wire-format §5.5: how to find a game that has it, and how to write it."""

    rewrite: Shape
    holds: Callable[[Move], bool]
    """A move of the game the shape rewrites (the test game must contain one)."""
    prefer: MoveType | None = None
    """A move random play rarely picks: play it the first time it is legal."""


# Wire-format §5.5 (and §1.1 / §6.2 for the null fields), one entry per shape.
SHAPES: dict[str, PlaceholderShape] = {
    "forced_elimination with placementCount 0, placedOnStack false, id simulated":
        PlaceholderShape(_forced_elimination, _of(MoveType.FORCED_ELIMINATION)),
    "place_ring, move_stack, skip_placement with id simulated":
        PlaceholderShape(_simulated_id, _of(MoveType.SKIP_PLACEMENT), MoveType.SKIP_PLACEMENT),
    "skip_placement with an arbitrary to":
        PlaceholderShape(_skip_placement_target, _of(MoveType.SKIP_PLACEMENT),
                         MoveType.SKIP_PLACEMENT),
    "no_placement/movement/line/territory_action with to {x:0,y:0} (no z on hex boards)":
        PlaceholderShape(_bookkeeping_origin, _of(MoveType.NO_MOVEMENT_ACTION)),
    "skip_recovery without to":
        PlaceholderShape(_skip_recovery_without_to, _of(MoveType.SKIP_RECOVERY),
                         MoveType.SKIP_RECOVERY),
    "line-reward eliminate_rings_from_stack with moveNumber one less than its index":
        PlaceholderShape(_line_reward_move_number, _is_line_reward),
    "descriptive ids on the other moves":
        PlaceholderShape(_descriptive_id, _of(MoveType.NO_LINE_ACTION)),
    "absent fields written as null, z null on square positions":
        PlaceholderShape(_null_fields, _of(MoveType.MOVE_STACK)),
}


def py_style(record: GameRecord, shape: Shape) -> tuple[dict[str, Any], int]:
    """The record as JSON with ``shape`` applied to every move; and how many it changed."""
    raw = record_to_json(record)
    changed = sum(shape(move, i, record.board_type) for i, move in enumerate(raw["moves"]))
    return raw, changed


def play(config: GameConfig, seed: int, prefer: MoveType | None = None,
         max_moves: int = 2000) -> tuple[GameRecord, list[GameState]]:
    """A seeded random game, playing ``prefer`` the first time it is legal; every state."""
    rng = random.Random(seed)
    state = engine.initial_state(config)
    states = [state]
    moves: list[Move] = []
    while not state.is_terminal and len(moves) < max_moves:
        legal = engine.legal_moves(state)
        wanted = [m for m in legal if m.type is prefer]
        move = wanted[0] if wanted else legal[rng.randrange(len(legal))]
        if wanted:
            prefer = None
        moves.append(move)
        state = engine.apply_move(state, move)
        states.append(state)
    record = GameRecord(board_type=config.board_type, num_players=config.num_players,
                        moves=moves, id=f"test-{config.key}-{seed}", winner=state.winner,
                        outcome=state.victory_reason if state.is_terminal else None)
    return record, states


def game_with(config: GameConfig, shape: PlaceholderShape,
              seeds: int = 100) -> tuple[GameRecord, list[GameState]]:
    """The first seeded game holding a move ``shape`` rewrites."""
    for seed in range(seeds):
        record, states = play(config, seed, shape.prefer)
        if any(shape.holds(m) for m in record.moves):
            return record, states
    raise AssertionError(f"no game among {seeds} seeds holds the move this shape rewrites")


def condition_holding(wire: WireState) -> tuple[int, str] | None:
    """Rules §12.2 items 1-2 read off a wire state: ring elimination, then territory."""
    for player in wire.players:
        if player.eliminated_rings >= (wire.victory_threshold or 0):
            return player.player_number, "ring_elimination"
    owned = Counter(wire.collapsed.values())
    total = sum(owned.values())
    for player in wire.players:
        mine = owned[player.player_number]
        if mine >= (wire.territory_victory_minimum or 0) and mine > total - mine:
            return player.player_number, "territory_control"
    return None


def cut_where_a_condition_holds(config: GameConfig, reason: str, seeds: int = 80) -> tuple[
        GameRecord, GameState, int, str]:
    """A record of our engine stopped at the first move after which ``reason`` holds, with
    the game still running (mid-turn); its last state, the winner and the reason."""
    for seed in range(seeds):
        record, states = play(config, seed)
        for cut, state in enumerate(states[1:], start=1):
            if state.is_terminal:
                break
            holding = condition_holding(state.to_wire())
            if holding is None:
                continue
            if holding[1] != reason:
                break  # the after-move check ends this game another way
            winner = holding[0]
            return (GameRecord(config.board_type, config.num_players, record.moves[:cut],
                               id=f"cut-{seed}", winner=winner, outcome=reason),
                    state, winner, reason)
    raise AssertionError(f"no {config.key} game among {seeds} seeds reaches {reason} mid-turn")
