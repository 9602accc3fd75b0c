"""Lines of markers (rules §8): detection, the options offered, and collapsing.

A line of player P is a maximal run of P's markers along one line axis; it is
eligible at length >= L. An exact-length line is processed with ``process_line``
(collapse it, then pay one ring if P still controls a stack). An overlength line
is processed with ``choose_line_option``: collapse all (and pay) or collapse any
contiguous block of exactly L cells (free). A line is encoded by its first cell,
axis direction and length; its cells are ``start`` followed by
``rays[start, dir, 0:length - 1]``.
"""

from __future__ import annotations

import numpy as np

from ringrift.game._jit import njit
from ringrift.game.codes import COLL, MARK, MT_LINE_OPTION, MT_PROCESS_LINE, TERR
from ringrift.game.moves_buffer import push


@njit
def find_lines(board, rays, ray_len, line_dirs, opposite, player, min_len):
    """Every eligible line of ``player``: an array of rows ``(start, dir, length)``."""
    out = np.empty((0, 3), dtype=np.int32)
    found = []
    for c in range(board.shape[0]):
        if board[c, MARK] != player:
            continue
        for a in range(line_dirs.shape[0]):
            d = line_dirs[a]
            back = opposite[d]
            if ray_len[c, back] > 0 and board[rays[c, back, 0], MARK] == player:
                continue  # not the first cell of its run
            length = 1
            while length - 1 < ray_len[c, d] and board[rays[c, d, length - 1], MARK] == player:
                length += 1
            if length >= min_len:
                found.append((c, d, length))
    if len(found) == 0:
        return out
    out = np.empty((len(found), 3), dtype=np.int32)
    for i in range(len(found)):
        out[i, 0] = found[i][0]
        out[i, 1] = found[i][1]
        out[i, 2] = found[i][2]
    return out


@njit
def has_line(board, rays, ray_len, line_dirs, opposite, player, min_len):
    """True if ``player`` has at least one eligible line."""
    return find_lines(board, rays, ray_len, line_dirs, opposite, player, min_len).shape[0] > 0


@njit
def line_cell(rays, start, d, i):
    """The ``i``-th cell of the line starting at ``start`` along ``d``."""
    return start if i == 0 else rays[start, d, i - 1]


@njit
def gen_line_moves(lines, min_len, buf, n):
    """Append the line decisions for ``lines`` (see the module docstring)."""
    for i in range(lines.shape[0]):
        start, d, length = lines[i, 0], lines[i, 1], lines[i, 2]
        if length == min_len:
            buf, n = push(buf, n, MT_PROCESS_LINE, start, d, length, 0, 0)
        else:
            buf, n = push(buf, n, MT_LINE_OPTION, start, d, length, -1, 0)
            for off in range(length - min_len + 1):
                buf, n = push(buf, n, MT_LINE_OPTION, start, d, length, off, 0)
    return buf, n


@njit
def collapse_cells(board, players, rays, player, start, d, first, count):
    """Collapse cells ``first .. first + count - 1`` of a line to ``player`` (§8.2)."""
    for i in range(first, first + count):
        cell = line_cell(rays, start, d, i)
        board[cell, MARK] = 0
        if board[cell, COLL] == 0:
            board[cell, COLL] = player
            players[player, TERR] += 1
