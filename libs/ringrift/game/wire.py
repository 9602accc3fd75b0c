"""Game-state JSON (wire-format §4) read into and written from a neutral ``WireState``.

``WireState`` holds exactly what the wire carries, in wire terms: stacks keyed by
their *stored* key (non-canonical two-component hex keys are kept, because the
fingerprint uses keys verbatim, §1.2), ``rings`` **top first** (§2), stored
``stackHeight``/``capHeight``/``controllingPlayer``. The engine converts it to and
from its own arrays (``GameState.from_wire`` / ``state.to_wire()``).

Reading accepts the three forms in circulation (contract, full host, PY-native)
and the TS reader's tolerances (§4.5): ``rings`` as an array, an object with
numeric keys or missing; a stack or marker without ``position``; ``boardType`` at
top level; a legacy ``finished`` status (read as ``completed``). PY-native dumps
list rings bottom first; they are recognised by their PY-only fields, or the
caller says so with ``ring_order``. Writing produces the contract form (§4.1) or
the full host form (§4.2), always top first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ringrift.configs import BOARD_TYPES
from ringrift.game.errors import WireFormatError
from ringrift.game.move import Move, Position, position_from_key
from ringrift.game.wire_move import move_from_json, move_to_json
from ringrift.game.wire_values import (
    read_dict,
    read_int,
    read_list,
    read_optional_position,
    read_position,
    read_str,
)
from ringrift.game.wire_write import state_to_json

GAME_PHASES = frozenset({
    "ring_placement", "movement", "capture", "chain_capture", "line_processing",
    "territory_processing", "forced_elimination", "game_over",
})
GAME_STATUSES = frozenset({"waiting", "active", "paused", "abandoned", "completed"})
TERMINAL_STATUSES = frozenset({"completed", "abandoned"})
DEFAULT_BOARD_SIZE = {"square8": 8, "square19": 19, "hex8": 9, "hexagonal": 25}
RingOrder = Literal["auto", "top_first", "bottom_first"]

# Fields only the PY-native model dump has; their presence means rings are bottom first.
_PY_NATIVE_MARKERS = ("zobristHash", "chainCaptureState", "lpsRoundIndex",
                      "lpsCurrentRoundActorMask")


@dataclass(slots=True)
class WireStack:
    """A stack as on the wire: ``rings[0]`` is the top (controlling) ring."""

    position: Position
    rings: tuple[int, ...]
    stack_height: int
    cap_height: int
    controlling_player: int


@dataclass(slots=True)
class WirePlayer:
    player_number: int
    rings_in_hand: int
    eliminated_rings: int = 0
    territory_spaces: int = 0


@dataclass(slots=True)
class RulesOptions:
    swap_rule_enabled: bool | None = None
    rings_per_player: int | None = None
    lps_rounds_required: int | None = None


@dataclass(slots=True)
class WireState:
    """A game state in wire terms (see the module docstring). Keys are position keys."""

    board_type: str
    size: int
    players: list[WirePlayer]
    current_player: int
    phase: str
    status: str = "active"
    stacks: dict[str, WireStack] = field(default_factory=dict)
    markers: dict[str, int] = field(default_factory=dict)
    collapsed: dict[str, int] = field(default_factory=dict)
    board_eliminated_rings: dict[int, int] = field(default_factory=dict)
    move_history: list[Move] = field(default_factory=list)
    chain_capture_position: Position | None = None
    must_move_from_stack_key: str | None = None
    pending_line_reward_elimination: bool = False
    victory_threshold: int | None = None
    territory_victory_threshold: int | None = None
    territory_victory_minimum: int | None = None
    total_rings_eliminated: int | None = None
    total_rings_in_play: int | None = None
    winner: int | None = None
    rules_options: RulesOptions | None = None
    game_id: str | None = None
    turn_number: int | None = None
    marker_positions: dict[str, Position] = field(default_factory=dict)
    collapsed_positions: dict[str, Position] = field(default_factory=dict)
    lps: dict[str, Any] = field(default_factory=dict)
    """PY-native LPS tracker fields (``lps*`` keys), kept verbatim; not in the contract form."""

    @property
    def num_players(self) -> int:
        return len(self.players)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def player(self, number: int) -> WirePlayer:
        """The player object with ``player_number == number``."""
        for entry in self.players:
            if entry.player_number == number:
                return entry
        raise KeyError(number)


def on_board(position: Position, board_type: str, size: int) -> bool:
    """Whether ``position`` is a cell of a board of this type and ``size`` (rules §1.2)."""
    if board_type in ("square8", "square19"):
        return position.z is None and 0 <= position.x < size and 0 <= position.y < size
    radius = (size - 1) // 2
    z = -position.x - position.y if position.z is None else position.z
    return (position.x + position.y + z == 0 and abs(position.x) <= radius
            and abs(position.y) <= radius and abs(z) <= radius)


class _Reader:
    """One state read; holds the board geometry for cell checks."""

    def __init__(self, board_type: str, size: int, check_cells: bool) -> None:
        self.board_type, self.size, self.check_cells = board_type, size, check_cells

    def cell(self, key: str, entry: Any, path: str) -> Position:
        """The position of a map entry, checked against its key and the board."""
        if not isinstance(key, str):
            raise WireFormatError(f"position key must be a string, got {key!r}", path)
        raw = entry.get("position") if isinstance(entry, dict) else None
        if raw is None:
            try:
                position = position_from_key(key)
            except ValueError as error:
                raise WireFormatError(str(error), path) from None
        else:
            position = read_position(raw, f"{path}.position")
            if position.key != key:
                raise WireFormatError(
                    f"entry key {key!r} does not match its position {position.key!r}", path)
        if self.check_cells and not on_board(position, self.board_type, self.size):
            raise WireFormatError(
                f"position {position.key} is off the {self.board_type} board of size {self.size}",
                path)
        return position

    def stack(self, key: str, raw: Any, path: str, bottom_first: bool) -> WireStack:
        obj = read_dict(raw, path)
        position = self.cell(key, obj, path)
        rings_raw = obj.get("rings")
        if rings_raw is None:  # TS tolerance: synthesise a uniform stack
            height = read_int(obj.get("stackHeight"), f"{path}.stackHeight", minimum=1)
            owner = read_int(obj.get("controllingPlayer"), f"{path}.controllingPlayer", minimum=1)
            rings: tuple[int, ...] = (owner,) * height
        else:
            if isinstance(rings_raw, dict):  # TS tolerance: {"0": p, "1": q, ...}
                try:
                    rings_raw = [rings_raw[k] for k in sorted(rings_raw, key=int)]
                except ValueError:
                    raise WireFormatError("rings object keys must be integers",
                                          f"{path}.rings") from None
            rings = tuple(read_int(r, f"{path}.rings[{i}]", minimum=1)
                          for i, r in enumerate(read_list(rings_raw, f"{path}.rings")))
            if not rings:
                raise WireFormatError("a stack needs at least one ring", f"{path}.rings")
            if bottom_first:
                rings = rings[::-1]
        cap = 1
        while cap < len(rings) and rings[cap] == rings[0]:
            cap += 1
        height = obj.get("stackHeight", len(rings))
        cap_height = obj.get("capHeight", cap)
        owner = obj.get("controllingPlayer", rings[0])
        if (height, cap_height, owner) != (len(rings), cap, rings[0]):
            hint = ""
            reverse_cap = 1
            while reverse_cap < len(rings) and rings[-1 - reverse_cap] == rings[-1]:
                reverse_cap += 1
            if (height, cap_height, owner) == (len(rings), reverse_cap, rings[-1]):
                hint = (" (they match the reversed order: pass ring_order='bottom_first'"
                        if not bottom_first else " (they match top-first order")
                hint += " if this dump lists rings the other way)"
            raise WireFormatError(
                f"stackHeight/capHeight/controllingPlayer {height}/{cap_height}/{owner} "
                f"disagree with rings {list(rings)} read top first{hint}", path)
        return WireStack(position, rings, len(rings), cap, rings[0])


def _detect_bottom_first(obj: dict[str, Any], ring_order: RingOrder) -> bool:
    if ring_order == "auto":
        return any(name in obj for name in _PY_NATIVE_MARKERS)
    return ring_order == "bottom_first"


def state_from_json(value: Any, *, ring_order: RingOrder = "auto",
                    check_cells: bool = True, path: str = "state") -> WireState:
    """Read a game state in contract, full host or PY-native form.

    Args:
        value: the decoded JSON object.
        ring_order: ``auto`` (PY-native dumps bottom first, everything else top first),
            or force one order.
        check_cells: reject cells that are off the board (on by default).
        path: prefix for error paths.

    Raises:
        WireFormatError: a required field is missing or malformed; ``path`` locates it.
    """
    obj = read_dict(value, path)
    board = read_dict(obj.get("board"), f"{path}.board")
    board_type = board.get("type") or obj.get("boardType")
    board_type = read_str(board_type, f"{path}.board.type", frozenset(BOARD_TYPES))
    size = board.get("size", DEFAULT_BOARD_SIZE[board_type])
    size = read_int(size, f"{path}.board.size", minimum=1)
    reader = _Reader(board_type, size, check_cells)
    bottom_first = _detect_bottom_first(obj, ring_order)

    stacks = {key: reader.stack(key, raw, f'{path}.board.stacks["{key}"]', bottom_first)
              for key, raw in read_dict(board.get("stacks", {}), f"{path}.board.stacks").items()}
    markers: dict[str, int] = {}
    marker_positions: dict[str, Position] = {}
    for key, raw in read_dict(board.get("markers", {}), f"{path}.board.markers").items():
        entry_path = f'{path}.board.markers["{key}"]'
        marker_positions[key] = reader.cell(key, read_dict(raw, entry_path), entry_path)
        markers[key] = read_int(raw.get("player"), f"{entry_path}.player", minimum=1)
    collapsed: dict[str, int] = {}
    collapsed_positions: dict[str, Position] = {}
    for key, owner in read_dict(board.get("collapsedSpaces", {}),
                                f"{path}.board.collapsedSpaces").items():
        entry_path = f'{path}.board.collapsedSpaces["{key}"]'
        collapsed_positions[key] = reader.cell(key, None, entry_path)
        collapsed[key] = read_int(owner, entry_path, minimum=1)
    _check_disjoint(stacks, markers, collapsed, path)

    eliminated_raw = board.get("eliminatedRings") or {}
    board_eliminated: dict[int, int] = {}
    for key, count in read_dict(eliminated_raw, f"{path}.board.eliminatedRings").items():
        entry_path = f'{path}.board.eliminatedRings["{key}"]'
        try:
            number = int(key)
        except ValueError:
            raise WireFormatError("keys must be player numbers", entry_path) from None
        board_eliminated[number] = read_int(count, entry_path, minimum=0)

    players = [_read_player(raw, f"{path}.players[{i}]")
               for i, raw in enumerate(read_list(obj.get("players"), f"{path}.players"))]
    if not players:
        raise WireFormatError("a state needs at least one player", f"{path}.players")
    numbers = [p.player_number for p in players]
    if len(set(numbers)) != len(numbers):
        raise WireFormatError(f"duplicate player numbers {numbers}", f"{path}.players")

    status = obj.get("gameStatus", "active")
    if status == "finished":  # TS legacy synonym
        status = "completed"
    status = read_str(status, f"{path}.gameStatus", GAME_STATUSES)
    current = read_int(obj.get("currentPlayer"), f"{path}.currentPlayer", minimum=0)
    if status not in TERMINAL_STATUSES and current not in numbers:
        raise WireFormatError(f"current player {current} is not one of the players {numbers}",
                              f"{path}.currentPlayer")
    history = obj.get("moveHistory") or []
    state = WireState(
        board_type=board_type,
        size=size,
        players=players,
        current_player=current,
        phase=read_str(obj.get("currentPhase"), f"{path}.currentPhase", GAME_PHASES),
        status=status,
        stacks=stacks,
        markers=markers,
        collapsed=collapsed,
        board_eliminated_rings=board_eliminated,
        move_history=[move_from_json(raw, f"{path}.moveHistory[{i}]")
                      for i, raw in enumerate(read_list(history, f"{path}.moveHistory"))],
        chain_capture_position=read_optional_position(
            obj.get("chainCapturePosition"), f"{path}.chainCapturePosition"),
        must_move_from_stack_key=_optional(obj, "mustMoveFromStackKey", path, read_str),
        pending_line_reward_elimination=bool(obj.get("pendingLineRewardElimination") or False),
        victory_threshold=_optional(obj, "victoryThreshold", path, read_int),
        territory_victory_threshold=_optional(obj, "territoryVictoryThreshold", path, read_int),
        territory_victory_minimum=_optional(obj, "territoryVictoryMinimum", path, read_int),
        total_rings_eliminated=_optional(obj, "totalRingsEliminated", path, read_int),
        total_rings_in_play=_optional(obj, "totalRingsInPlay", path, read_int),
        winner=_optional(obj, "winner", path, read_int),
        rules_options=_read_rules_options(obj.get("rulesOptions"), f"{path}.rulesOptions"),
        game_id=_optional_text(obj.get("gameId", obj.get("id"))),
        turn_number=_optional(obj, "turnNumber", path, read_int) or len(history) + 1,
        marker_positions=marker_positions,
        collapsed_positions=collapsed_positions,
        lps={k: v for k, v in obj.items() if k.startswith("lps")},
    )
    return state


def _optional(obj: dict[str, Any], name: str, path: str, reader: Any) -> Any:
    value = obj.get(name)
    return None if value is None else reader(value, f"{path}.{name}")


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _read_player(raw: Any, path: str) -> WirePlayer:
    obj = read_dict(raw, path)
    return WirePlayer(
        read_int(obj.get("playerNumber"), f"{path}.playerNumber", minimum=1),
        read_int(obj.get("ringsInHand"), f"{path}.ringsInHand", minimum=0),
        read_int(obj.get("eliminatedRings", 0), f"{path}.eliminatedRings", minimum=0),
        read_int(obj.get("territorySpaces", 0), f"{path}.territorySpaces", minimum=0),
    )


def _read_rules_options(raw: Any, path: str) -> RulesOptions | None:
    if raw is None:
        return None
    obj = read_dict(raw, path)
    swap = obj.get("swapRuleEnabled")
    return RulesOptions(
        None if swap is None else bool(swap),
        _optional(obj, "ringsPerPlayer", path, read_int),
        _optional(obj, "lpsRoundsRequired", path, read_int),
    )


def _check_disjoint(stacks: dict[str, WireStack], markers: dict[str, int],
                    collapsed: dict[str, int], path: str) -> None:
    """A cell holds at most one of stack, marker, collapsed (rules §2.1)."""
    for key in markers.keys() & stacks.keys():
        raise WireFormatError(f"cell {key} holds both a stack and a marker",
                              f'{path}.board.markers["{key}"]')
    for key in collapsed.keys() & (stacks.keys() | markers.keys()):
        raise WireFormatError(f"collapsed cell {key} also holds a stack or marker",
                              f'{path}.board.collapsedSpaces["{key}"]')


def loads_state(text: str | bytes, **options: Any) -> WireState:
    """Decode JSON text and read a state; malformed JSON is a ``WireFormatError``."""
    return state_from_json(loads_json(text), **options)


def dumps_state(state: WireState, form: Literal["contract", "host"] = "contract") -> str:
    return json.dumps(state_to_json(state, form), separators=(",", ":"))


def loads_move(text: str | bytes) -> Move:
    return move_from_json(loads_json(text))


def dumps_move(move: Move) -> str:
    return json.dumps(move_to_json(move), separators=(",", ":"))


def loads_json(text: str | bytes, path: str = "") -> Any:
    """``json.loads`` that reports malformed JSON as a ``WireFormatError`` with line/column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        where = f"{path} " if path else ""
        raise WireFormatError(f"{where}malformed JSON: {error.msg} at line {error.lineno} "
                              f"column {error.colno}") from None
    except UnicodeDecodeError as error:
        raise WireFormatError(f"{path} is not UTF-8 text: {error.reason}".strip()) from None
