"""Conversion between engine move rows (``codes.py``) and wire ``Move`` objects.

``row_to_move`` builds the full wire move of a legal row (lines and regions carry
their cells, eliminations their context). ``find_row`` maps a received ``Move`` to
the legal row it stands for, reading it the way the rules ask (rules §8.3, §9.3,
§11.3, wire-format §6.2): the elimination context comes from the phase, an
under-specified recovery slide takes the first eligible extraction stack, and a
``choose_line_option`` collapsing a whole exact-length line is ``process_line``. A
``process_line`` stands only for an exact-length line: on an overlength line it chooses
no option, which the rules require (rules §8.3, §16 D6), so it matches no legal row
(``engine.apply_move`` refuses it; see ``trusted.is_overlength_process_line``).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from ringrift.game import codes as C
from ringrift.game.geometry import HEX_DIRS, SQUARE_DIRS, Geometry
from ringrift.game.lines import line_cell
from ringrift.game.move import Cells, LineInfo, Move, MoveType, Position, Territory
from ringrift.game.recovery import line_through

if TYPE_CHECKING:
    from ringrift.game.state import GameState

Regions = tuple[np.ndarray, np.ndarray]

_TYPE_OF_ROW: dict[int, MoveType] = {
    C.MT_PLACE: MoveType.PLACE_RING, C.MT_SKIP_PLACEMENT: MoveType.SKIP_PLACEMENT,
    C.MT_NO_PLACEMENT: MoveType.NO_PLACEMENT_ACTION, C.MT_SWAP: MoveType.SWAP_SIDES,
    C.MT_MOVE: MoveType.MOVE_STACK, C.MT_CAPTURE: MoveType.OVERTAKING_CAPTURE,
    C.MT_CONTINUE: MoveType.CONTINUE_CAPTURE_SEGMENT, C.MT_SKIP_CAPTURE: MoveType.SKIP_CAPTURE,
    C.MT_NO_MOVEMENT: MoveType.NO_MOVEMENT_ACTION, C.MT_RECOVERY: MoveType.RECOVERY_SLIDE,
    C.MT_SKIP_RECOVERY: MoveType.SKIP_RECOVERY, C.MT_PROCESS_LINE: MoveType.PROCESS_LINE,
    C.MT_LINE_OPTION: MoveType.CHOOSE_LINE_OPTION, C.MT_NO_LINE: MoveType.NO_LINE_ACTION,
    C.MT_TERRITORY: MoveType.CHOOSE_TERRITORY_OPTION,
    C.MT_SKIP_TERRITORY: MoveType.SKIP_TERRITORY_PROCESSING,
    C.MT_NO_TERRITORY: MoveType.NO_TERRITORY_ACTION,
    C.MT_ELIMINATE: MoveType.ELIMINATE_RINGS_FROM_STACK, C.MT_FORCED: MoveType.FORCED_ELIMINATION,
}
ROW_TYPE_OF: dict[MoveType, int] = {v: k for k, v in _TYPE_OF_ROW.items()}


@cache
def positions(geo: Geometry) -> tuple[Position, ...]:
    """The wire position of every cell of ``geo``."""
    if geo.is_hex:
        return tuple(Position(int(x), int(y), int(z))
                     for x, y, z in zip(geo.cell_x, geo.cell_y, geo.cell_z, strict=True))
    return tuple(Position(int(x), int(y)) for x, y in zip(geo.cell_x, geo.cell_y, strict=True))


def cell_of(geo: Geometry, pos: Position | None) -> int:
    """The cell index of a wire position, -1 if absent or off the board."""
    if pos is None:
        return -1
    return geo.index_of(pos.x, pos.y, pos.z)


def line_cells(geo: Geometry, start: int, d: int, first: int, count: int) -> list[int]:
    """Cells ``first .. first + count - 1`` of the line from ``start`` along ``d``."""
    return [int(line_cell(geo.rays, start, d, i)) for i in range(first, first + count)]


def region_cells(regions: Regions, r: int) -> list[int]:
    cells, offsets = regions
    return [int(c) for c in cells[offsets[r]:offsets[r + 1]]]


def recovery_line(state: GameState, row: np.ndarray) -> tuple[int, int, int]:
    """The line a recovery slide row forms: ``(start, dir, length)`` (board before the slide)."""
    g = state.geometry
    board = state.board.copy()
    player = state.current_player
    board[row[1], C.MARK] = 0
    board[row[2], C.MARK] = player
    start, d, length = line_through(board, g.rays, g.ray_len, g.line_dirs, g.opposite,
                                    int(row[2]), player, state.line_length)
    return int(start), int(d), int(length)


def _recovery_segment(state: GameState, row: np.ndarray) -> list[int]:
    start, d, _ = recovery_line(state, row)
    return line_cells(state.geometry, start, d, int(row[5]), state.line_length)


# Rows whose wire move depends only on the row and the player: their Move objects are
# built once per board and reused (``move_number`` is left unset on them; records number
# moves by position).
_MEMO_TYPES = frozenset({
    C.MT_PLACE, C.MT_SKIP_PLACEMENT, C.MT_NO_PLACEMENT, C.MT_SWAP, C.MT_MOVE, C.MT_CAPTURE,
    C.MT_CONTINUE, C.MT_SKIP_CAPTURE, C.MT_NO_MOVEMENT, C.MT_SKIP_RECOVERY, C.MT_NO_LINE,
    C.MT_SKIP_TERRITORY, C.MT_NO_TERRITORY, C.MT_ELIMINATE, C.MT_FORCED,
})
_MEMO_LIMIT = 500_000
_memo: dict[int, dict[int, Move]] = {}


def _row_keys(rows: np.ndarray, player: int) -> list[int]:
    """One int per row packing type, a, b, c (cells < 1024) and the player."""
    r = rows.astype(np.int64)
    keys = r[:, 0] + ((r[:, 1] + 1) << 5) + ((r[:, 2] + 1) << 16) + ((r[:, 3] + 1) << 27)
    return (keys + (player << 40)).tolist()


def rows_to_moves(state: GameState, rows: np.ndarray, regions: Regions | None) -> list[Move]:
    """The wire moves of legal rows (memoised where the move depends on the row alone)."""
    memo = _memo.setdefault(id(state.geometry), {})
    keys = _row_keys(rows, state.current_player)
    out = [memo.get(k) for k in keys]
    for i, move in enumerate(out):
        if move is not None:
            continue
        row = rows[i]
        if int(row[0]) in _MEMO_TYPES:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            out[i] = memo[keys[i]] = row_to_move(state, row, regions, memo=True)
        else:
            out[i] = row_to_move(state, row, regions)
    return out  # type: ignore[return-value]


def row_to_move(state: GameState, row: np.ndarray, regions: Regions | None,
                memo: bool = False) -> Move:
    """The wire ``Move`` of a legal row of ``state`` (``regions`` for territory rows)."""
    geo = state.geometry
    pos = positions(geo)
    player = state.current_player
    t = int(row[0])
    kw: dict = {}
    if t == C.MT_PLACE:
        kw = {"to": pos[row[1]], "placement_count": int(row[2])}
        if not memo:
            kw["placed_on_stack"] = bool(state.board[row[1], C.H] > 0)
    elif t == C.MT_MOVE:
        kw = {"from_pos": pos[row[1]], "to": pos[row[2]]}
    elif t in (C.MT_CAPTURE, C.MT_CONTINUE):
        kw = {"from_pos": pos[row[1]], "capture_target": pos[row[2]], "to": pos[row[3]]}
    elif t == C.MT_RECOVERY:
        mode = int(row[3])
        kw = {"from_pos": pos[row[1]], "to": pos[row[2]],
              "recovery_mode": C.RECOVERY_MODE_NAMES[mode]}
        if mode == C.RM_LINE:
            kw["recovery_option"] = int(row[4])
        if mode == C.RM_LINE and int(row[4]) == 2:
            kw["collapse_positions"] = Cells(pos[c] for c in _recovery_segment(state, row))
        else:
            kw["extraction_stacks"] = (geo.keys[row[5]],)
    elif t in (C.MT_PROCESS_LINE, C.MT_LINE_OPTION):
        start, d, length = int(row[1]), int(row[2]), int(row[3])
        cells = Cells(pos[c] for c in line_cells(geo, start, d, 0, length))
        direction = Position(*(HEX_DIRS[d] if geo.is_hex else SQUARE_DIRS[d]))
        kw = {"to": cells[0], "formed_lines": (LineInfo(cells, player, length, direction),)}
        if t == C.MT_LINE_OPTION:
            chosen = cells if row[4] < 0 else Cells(
                pos[c] for c in line_cells(geo, start, d, int(row[4]), state.line_length))
            kw["collapsed_markers"] = chosen
    elif t == C.MT_TERRITORY:
        if regions is None:
            raise ValueError("territory rows need the state's regions")
        cells = Cells(pos[c] for c in region_cells(regions, int(row[1])))
        kw = {"to": cells[0], "disconnected_regions": (Territory(cells, player, True),)}
    elif t == C.MT_ELIMINATE:
        kw = {"to": pos[row[1]], "elimination_context": C.CONTEXT_NAMES[int(row[2])]}
    elif t == C.MT_FORCED:
        kw = {"to": pos[row[1]]}
    number = None if memo else state.move_count + 1
    return Move(type=_TYPE_OF_ROW[t], player=player, move_number=number, **kw)


def _cell_set(geo: Geometry, cells: tuple[Position, ...]) -> frozenset[int]:
    return frozenset(cell_of(geo, p) for p in cells)


def _line_of_move(move: Move) -> tuple[Position, ...]:
    if move.formed_lines:
        return tuple(move.formed_lines[0].positions)
    return tuple(move.collapsed_markers)


def _row_matches(state: GameState, row: np.ndarray, move: Move, regions: Regions | None) -> bool:
    geo = state.geometry
    t = int(row[0])
    if t == C.MT_PLACE:
        return cell_of(geo, move.to) == row[1] and (move.placement_count or 1) == row[2]
    if t == C.MT_MOVE:
        return cell_of(geo, move.from_pos) == row[1] and cell_of(geo, move.to) == row[2]
    if t in (C.MT_CAPTURE, C.MT_CONTINUE):
        return (cell_of(geo, move.from_pos) == row[1]
                and cell_of(geo, move.capture_target) == row[2]
                and cell_of(geo, move.to) == row[3])
    if t == C.MT_RECOVERY:
        return _recovery_matches(state, row, move)
    if t in (C.MT_PROCESS_LINE, C.MT_LINE_OPTION):
        return _line_matches(state, row, move)
    if t == C.MT_TERRITORY:
        region = move.region
        if region is None or regions is None:
            return False
        return _cell_set(geo, tuple(region.spaces)) == frozenset(region_cells(regions, int(row[1])))
    if t in (C.MT_ELIMINATE, C.MT_FORCED):
        return cell_of(geo, move.to) == row[1]
    return True


def _recovery_matches(state: GameState, row: np.ndarray, move: Move) -> bool:
    geo = state.geometry
    if cell_of(geo, move.from_pos) != row[1] or cell_of(geo, move.to) != row[2]:
        return False
    mode = int(row[3])
    if move.recovery_mode is not None and move.recovery_mode != C.RECOVERY_MODE_NAMES[mode]:
        return False
    option = int(row[4])
    wanted = move.recovery_option
    if mode == C.RM_LINE and wanted is None and move.collapse_positions:
        wanted = 2
    if mode == C.RM_LINE and wanted is not None and wanted != option:
        return False
    if mode == C.RM_LINE and option == 2:
        if move.collapse_positions:
            return _cell_set(geo, tuple(move.collapse_positions)) == frozenset(
                _recovery_segment(state, row))
        return True
    if move.extraction_stacks:
        return geo.index_of_key(move.extraction_stacks[0]) == row[5]
    return True


def _line_matches(state: GameState, row: np.ndarray, move: Move) -> bool:
    geo = state.geometry
    start, d, length = int(row[1]), int(row[2]), int(row[3])
    all_cells = frozenset(line_cells(geo, start, d, 0, length))
    if _cell_set(geo, _line_of_move(move)) != all_cells:
        return False
    if move.type is MoveType.PROCESS_LINE:  # exact length only (module docstring)
        return bool(row[0] == C.MT_PROCESS_LINE)
    whole = row[0] == C.MT_PROCESS_LINE or row[4] < 0
    chosen = _cell_set(geo, tuple(move.collapsed_markers)) if move.collapsed_markers else all_cells
    if whole:
        return chosen == all_cells
    return chosen == frozenset(line_cells(geo, start, d, int(row[4]), state.line_length))


def _candidate_types(move: Move) -> tuple[int, ...]:
    if move.type is MoveType.CHOOSE_LINE_OPTION:
        return (C.MT_PROCESS_LINE, C.MT_LINE_OPTION)
    row_type = ROW_TYPE_OF.get(move.type)
    return () if row_type is None else (row_type,)


def find_row(state: GameState, move: Move, rows: np.ndarray, regions: Regions | None) -> int:
    """Index of the legal row ``move`` stands for (first match), or -1."""
    types = _candidate_types(move)
    for i in range(rows.shape[0]):
        if int(rows[i, 0]) in types and _row_matches(state, rows[i], move, regions):
            return i
    return -1
