"""Stack and cell primitives (rules §2.2): the only ways the engine mutates a stack.

Rings are stored bottom first in ``rings[cell, :height]``; after every change
``recompute`` refreshes height, controller and cap height in ``board``. Every
function here is a numba kernel over the arrays described in ``codes.py``.
"""

from __future__ import annotations

import numpy as np

from ringrift.game._jit import njit
from ringrift.game.codes import BOARD_ELIM, CAP, CTRL, ELIM, M_TOTAL_ELIM, H


@njit
def recompute(board, rings, c):
    """Refresh controller and cap height of ``c`` from its ring list."""
    h = board[c, H]
    if h == 0:
        board[c, CTRL] = 0
        board[c, CAP] = 0
        return
    top = rings[c, h - 1]
    k = 1
    while k < h and rings[c, h - 1 - k] == top:
        k += 1
    board[c, CTRL] = top
    board[c, CAP] = k


@njit
def grow_rings(rings, need):
    """``rings`` with room for stacks of height ``need`` (a new array only when it must grow)."""
    if need <= rings.shape[1]:
        return rings
    width = rings.shape[1] * 2
    while width < need:
        width *= 2
    grown = np.zeros((rings.shape[0], width), dtype=rings.dtype)
    grown[:, : rings.shape[1]] = rings
    return grown


@njit
def add_on_top(board, rings, c, player, count):
    """Place ``count`` rings of ``player`` on top of ``c`` (capacity checked by the caller)."""
    h = board[c, H]
    for k in range(count):
        rings[c, h + k] = player
    board[c, H] = h + count
    recompute(board, rings, c)


@njit
def add_at_bottom(board, rings, c, colour):
    """Insert one ring of ``colour`` under the stack on ``c`` (a captured ring)."""
    h = board[c, H]
    for k in range(h, 0, -1):
        rings[c, k] = rings[c, k - 1]
    rings[c, 0] = colour
    board[c, H] = h + 1
    recompute(board, rings, c)


@njit
def pop_top(board, rings, c):
    """Remove and return the top ring of ``c``."""
    h = board[c, H] - 1
    colour = rings[c, h]
    rings[c, h] = 0
    board[c, H] = h
    recompute(board, rings, c)
    return colour


@njit
def move_stack(board, rings, src, dst):
    """Move the whole stack from ``src`` to the empty cell ``dst``."""
    h = board[src, H]
    for k in range(h):
        rings[dst, k] = rings[src, k]
        rings[src, k] = 0
    board[dst, H] = h
    board[src, H] = 0
    recompute(board, rings, src)
    recompute(board, rings, dst)


@njit
def credit(players, meta, player, count):
    """Credit ``count`` eliminated rings to ``player`` (player counter and the total)."""
    players[player, ELIM] += count
    players[player, BOARD_ELIM] += count
    meta[M_TOTAL_ELIM] += count


@njit
def eliminate_top(board, rings, players, meta, c, count, player):
    """Eliminate ``count`` rings from the top of ``c``, credited to ``player``."""
    for _ in range(count):
        pop_top(board, rings, c)
    credit(players, meta, player, count)


@njit
def buried_index(board, rings, c, player):
    """Index of the bottommost ring of ``player`` below the top of ``c``; -1 if none."""
    h = board[c, H]
    for k in range(h - 1):
        if rings[c, k] == player:
            return k
    return -1


@njit
def extract_buried(board, rings, players, meta, c, player):
    """Remove ``player``'s bottommost buried ring from ``c`` and credit it (rules §11.3, R113)."""
    k = buried_index(board, rings, c, player)
    h = board[c, H]
    for j in range(k, h - 1):
        rings[c, j] = rings[c, j + 1]
    rings[c, h - 1] = 0
    board[c, H] = h - 1
    recompute(board, rings, c)
    credit(players, meta, player, 1)


@njit
def colour_on_board(board, rings, num_players):
    """Rings of each colour currently in stacks (index = player number)."""
    counts = np.zeros(num_players + 1, dtype=np.int64)
    for c in range(board.shape[0]):
        for k in range(board[c, H]):
            counts[rings[c, k]] += 1
    return counts


@njit
def has_buried(board, rings, num_players):
    """Per player: does any stack hold a ring of theirs below its top?"""
    out = np.zeros(num_players + 1, dtype=np.bool_)
    for c in range(board.shape[0]):
        h = board[c, H]
        for k in range(h - 1):
            out[rings[c, k]] = True
    return out
