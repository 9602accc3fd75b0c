"""Feature planes and global features of a position, from the mover's point of view.

Seats are rotated so that the player to move is seat 0, the next player in turn
order seat 1, and so on; one network then plays every seat. Per seat ``s``
(``SEAT_PLANES`` planes each, seat-major):

0. stack controlled by ``s``; 1. its height / 10; 2. its cap height / 10;
3. marker of ``s``; 4. collapsed cell owned by ``s``; 5. rings of ``s`` buried
   (below the top) in the cell's stack / 5.

Then ``SHARED_PLANES`` planes: valid cell (hex boards are embedded in a square
grid), empty cell, any stack's height / 10, the must-move stack, the chain-capture
position, the capture-phase attacker, the pending territory region.

Globals (``3 * N + 15``): per seat rings in hand / rings per player, credited
eliminations / victory threshold, territory / territory minimum; the phase
one-hot (7 phases); pending line reward; recovery in this turn; player count
one-hot (2, 3, 4); line length 3; game progress (moves / 1000, capped at 1).
"""

from __future__ import annotations

import numpy as np

from ringrift.game import codes as C
from ringrift.game.state import GameState

SEAT_PLANES = 6
SHARED_PLANES = 7
PHASES: tuple[str, ...] = C.PHASE_NAMES[:7]
_SCALE_HEIGHT = 10.0


def num_planes(num_players: int) -> int:
    return SEAT_PLANES * num_players + SHARED_PLANES


def num_globals(num_players: int) -> int:
    return 3 * num_players + 15


def encode_into(state: GameState, planes: np.ndarray, globals_: np.ndarray) -> None:
    """Write the features of ``state`` into zeroed ``planes [C, H, W]`` and ``globals [G]``."""
    geo = state.geometry
    rows, cols = geo.cell_row, geo.cell_col
    n = state.num_players
    mover = state.current_player
    seat_of = np.zeros(n + 1, dtype=np.int64)  # player number -> relative seat (0 = mover)
    for seat in range(n):
        seat_of[(mover - 1 + seat) % n + 1] = seat
    board = state.board
    ctrl = board[:, C.CTRL]
    height = board[:, C.H].astype(np.float32)
    stacked = np.flatnonzero(ctrl > 0)
    base = seat_of[ctrl[stacked]] * SEAT_PLANES
    planes[base, rows[stacked], cols[stacked]] = 1.0
    planes[base + 1, rows[stacked], cols[stacked]] = height[stacked] / _SCALE_HEIGHT
    planes[base + 2, rows[stacked], cols[stacked]] = board[stacked, C.CAP] / _SCALE_HEIGHT
    for owner_col, offset in ((C.MARK, 3), (C.COLL, 4)):
        owned = np.flatnonzero(board[:, owner_col] > 0)
        plane = seat_of[board[owned, owner_col]] * SEAT_PLANES + offset
        planes[plane, rows[owned], cols[owned]] = 1.0
    for cell in np.flatnonzero(board[:, C.H] >= 2):
        # Ring colours bottom first; the top ring is the last one and is not buried.
        buried = np.bincount(state.rings[cell, : board[cell, C.H] - 1], minlength=n + 1)
        for player in np.flatnonzero(buried[1:]) + 1:
            planes[seat_of[player] * SEAT_PLANES + 5, rows[cell], cols[cell]] = (
                buried[player] / 5.0)

    shared = SEAT_PLANES * n
    planes[shared] = geo.valid_mask
    empty = np.flatnonzero((board[:, C.H] == 0) & (board[:, C.MARK] == 0)
                           & (board[:, C.COLL] == 0))
    planes[shared + 1, rows[empty], cols[empty]] = 1.0
    planes[shared + 2, rows[stacked], cols[stacked]] = height[stacked] / _SCALE_HEIGHT
    for offset, cell in ((3, state.must_move_from), (4, state.chain_capture_position),
                         (5, state.capture_attacker)):
        if cell is not None:
            planes[shared + offset, rows[cell], cols[cell]] = 1.0
    region = state.pending_territory_region
    if region is not None:
        inside = np.flatnonzero(region)
        planes[shared + 6, rows[inside], cols[inside]] = 1.0

    order = [(mover - 1 + seat) % n for seat in range(n)]  # seat -> player index
    globals_[0:n] = state.rings_in_hand[order] / state.rings_per_player
    globals_[n:2 * n] = state.eliminated_rings[order] / max(1, state.victory_threshold)
    globals_[2 * n:3 * n] = state.territory_spaces[order] / max(1, state.territory_victory_minimum)
    at = 3 * n
    if state.phase in PHASES:
        globals_[at + PHASES.index(state.phase)] = 1.0
    at += len(PHASES)
    globals_[at] = float(state.pending_line_reward)
    globals_[at + 1] = float(state.turn_has_recovery)
    globals_[at + 2 + (n - 2)] = 1.0
    globals_[at + 5] = float(state.line_length == 3)
    globals_[at + 6] = min(1.0, state.move_count / 1000.0)
