"""Applying a move's own geometry when it is not in the legal set (``trust_payload``).

The reference engines' apply paths trust the geometry a move carries (wire-format
§5.4) and several conformance vectors rely on that: regions that are not enclosed,
capture landings closer than the stack height, eliminations whose pending state is
only implied by a history the vector does not ship. ``trusted_row`` turns such a
move into an engine row after the structural checks that keep the arrays
consistent; everything else is still refused.
"""

from __future__ import annotations

import numpy as np

from ringrift.game import codes as C
from ringrift.game.codec import cell_of, line_cells
from ringrift.game.errors import IllegalMoveError
from ringrift.game.move import Move, MoveType
from ringrift.game.stacks import buried_index
from ringrift.game.state import GameState
from ringrift.game.territory import processable


def trusted_row(state: GameState, move: Move) -> tuple[np.ndarray, np.ndarray | None]:
    """The engine row (and region mask) applying ``move``'s payload as given.

    Raises:
        IllegalMoveError: the move type cannot be trusted here or its cells do not fit.
    """
    geo = state.geometry
    phase = state.phase
    why = f"{move.describe()}: not legal in phase {phase}"
    if move.type is MoveType.CHOOSE_TERRITORY_OPTION and phase == "territory_processing" \
            and state.pending_territory_region is None and move.region is not None:
        mask = np.zeros(geo.num_cells, dtype=np.bool_)
        for pos in move.region.spaces:
            cell = cell_of(geo, pos)
            if cell < 0:
                raise IllegalMoveError(f"{why}: region cell {pos.key} is off the board")
            mask[cell] = True
        if not processable(state.board, state.rings, mask, state.current_player,
                           state.turn_has_recovery):
            raise IllegalMoveError(f"{why}: no self-elimination target outside the region")
        first = cell_of(geo, move.region.spaces[0])
        return np.array([C.MT_TERRITORY, -1, first, 0, 0, 0], dtype=np.int32), mask
    if move.type in (MoveType.OVERTAKING_CAPTURE, MoveType.CONTINUE_CAPTURE_SEGMENT) and phase in (
            "movement", "capture", "chain_capture"):
        return _capture_row(state, move, why), None
    if move.type is MoveType.ELIMINATE_RINGS_FROM_STACK and phase in (
            "line_processing", "territory_processing"):
        cell = cell_of(geo, move.to)
        player = state.current_player
        if phase == "territory_processing" and state.turn_has_recovery:
            if cell < 0 or buried_index(state.board, state.rings, cell, player) < 0:
                raise IllegalMoveError(f"{why}: no buried ring of player {player} there")
        elif cell < 0 or state.board[cell, C.CTRL] != player:
            raise IllegalMoveError(f"{why}: no stack of player {player} there")
        context = {"line": C.EC_LINE, "recovery": C.EC_RECOVERY}.get(
            move.elimination_context or "", C.EC_TERRITORY)
        return np.array([C.MT_ELIMINATE, cell, context, 0, 0, 0], dtype=np.int32), None
    raise IllegalMoveError(why)


def is_overlength_process_line(state: GameState, move: Move, rows: np.ndarray) -> bool:
    """``move`` is a ``process_line`` naming an overlength line of this position.

    Such a move chooses no option, and the rules want the option chosen explicitly
    (rules §8.3, §16 D6: use ``choose_line_option``). It therefore never collapses
    anything: ``engine.apply_move`` refuses it, and the trusted path records it as the
    no-op TS's apply path makes of it (PY's reading, collapse-all, is not followed). The
    line is named by ``formedLines`` or, without them, by its first or last cell.
    """
    if move.type is not MoveType.PROCESS_LINE or state.phase != "line_processing" \
            or state.pending_line_reward:
        return False
    geo = state.geometry
    named = {cell_of(geo, p) for p in (move.line.positions if move.line else ())}
    first = cell_of(geo, move.to)
    for row in rows:
        if row[0] != C.MT_LINE_OPTION or row[4] != -1:
            continue
        cells = set(line_cells(geo, int(row[1]), int(row[2]), 0, int(row[3])))
        if named == cells or (not named and first in (min(cells), max(cells), int(row[1]))):
            return True
    return False


def _capture_row(state: GameState, move: Move, why: str) -> np.ndarray:
    geo = state.geometry
    board = state.board
    src, target, land = (cell_of(geo, move.from_pos), cell_of(geo, move.capture_target),
                         cell_of(geo, move.to))
    if min(src, target, land) < 0 or board[src, C.CTRL] != state.current_player:
        raise IllegalMoveError(f"{why}: no stack of player {state.current_player} at the origin")
    for d in range(geo.num_dirs):
        ray = list(geo.rays[src, d, : geo.ray_len[src, d]])
        if target in ray and land in ray and ray.index(land) > ray.index(target):
            k, j = ray.index(target), ray.index(land)
            path_clear = all(board[c, C.H] == 0 and board[c, C.COLL] == 0
                             for i, c in enumerate(ray[: j + 1]) if i != k)
            if board[target, C.H] == 0 or not path_clear:
                break
            kind = C.MT_CONTINUE if state.phase == "chain_capture" else C.MT_CAPTURE
            return np.array([kind, src, target, land, d, j], dtype=np.int32)
    raise IllegalMoveError(f"{why}: target and landing are not on one clear ray from the origin")
