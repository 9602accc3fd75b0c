"""Recovery (rules §11): how a player with no stack but buried rings and markers acts.

An eligible player (controls no stack, owns a marker, has a buried ring) may slide
one of its markers one step:

- ``line``: onto an empty cell where the marker completes a line of >= L of its
  markers; exact length or Option 1 collapses the line and extracts one buried
  ring, Option 2 (overlength) collapses L contiguous cells containing the
  destination for free;
- only if no line slide exists anywhere: ``fallback`` to any empty neighbour, or
  ``stack_strike`` onto a neighbouring stack (its top ring is eliminated and the
  marker leaves play), each paying one buried-ring extraction.

Move rows: ``(from, to, mode, option, e)`` with ``e`` = the extraction stack (or,
for Option 2, the offset of the collapsed block within the formed line). The
formed line is the first axis (in ``geometry.line_dirs`` order) through the
destination whose run reaches L, the marker having left its origin (§11.4).
"""

from __future__ import annotations

from ringrift.game._jit import njit
from ringrift.game.codes import (
    COLL,
    CTRL,
    MARK,
    MT_RECOVERY,
    RM_FALLBACK,
    RM_LINE,
    RM_STRIKE,
    TERR,
    H,
)
from ringrift.game.lines import line_cell
from ringrift.game.moves_buffer import push
from ringrift.game.stacks import buried_index, eliminate_top, extract_buried


@njit
def is_eligible(board, rings, player):
    """Controls no stack, owns a marker, and has a buried ring (R110)."""
    has_marker = False
    has_buried = False
    for c in range(board.shape[0]):
        if board[c, CTRL] == player:
            return False
        if board[c, MARK] == player:
            has_marker = True
        if not has_buried and board[c, H] > 1 and buried_index(board, rings, c, player) >= 0:
            has_buried = True
    return has_marker and has_buried


@njit
def line_through(board, rays, ray_len, line_dirs, opposite, cell, player, min_len):
    """The first line of ``player``'s markers through ``cell`` of length >= ``min_len``.

    Returns ``(start, dir, length)``, or ``(-1, -1, 0)`` when there is none.
    """
    for a in range(line_dirs.shape[0]):
        d = line_dirs[a]
        back = opposite[d]
        nb = 0
        while nb < ray_len[cell, back] and board[rays[cell, back, nb], MARK] == player:
            nb += 1
        nf = 0
        while nf < ray_len[cell, d] and board[rays[cell, d, nf], MARK] == player:
            nf += 1
        if nb + nf + 1 >= min_len:
            start = cell if nb == 0 else rays[cell, back, nb - 1]
            return start, d, nb + nf + 1
    return -1, -1, 0


@njit
def _slide_line(board, rays, ray_len, line_dirs, opposite, player, src, dst, min_len):
    """The line formed by sliding ``src`` to ``dst`` (board restored afterwards)."""
    board[src, MARK] = 0
    board[dst, MARK] = player
    start, d, length = line_through(board, rays, ray_len, line_dirs, opposite, dst, player, min_len)
    board[dst, MARK] = 0
    board[src, MARK] = player
    return start, d, length


@njit
def _is_empty(board, c):
    return board[c, H] == 0 and board[c, MARK] == 0 and board[c, COLL] == 0


@njit
def _push_extractions(board, rings, player, buf, n, src, dst, mode):
    """One move per stack holding a buried ring of ``player`` (the extraction choice, R113).

    A struck stack is a candidate like any other: the extraction is made before the
    strike (see ``apply_recovery``), so the ring directly under its top is still buried.
    """
    for s in range(board.shape[0]):
        if board[s, H] >= 2 and buried_index(board, rings, s, player) >= 0:
            buf, n = push(buf, n, MT_RECOVERY, src, dst, mode, 0, s)
    return buf, n


@njit
def gen_recovery(board, rings, rays, ray_len, line_dirs, opposite, steps, player, min_len, buf, n):
    """Append every legal ``recovery_slide`` of an eligible ``player`` (rules §11.2)."""
    start_n = n
    for src in range(board.shape[0]):
        if board[src, MARK] != player:
            continue
        for j in range(steps.shape[1]):
            dst = steps[src, j]
            if dst < 0 or not _is_empty(board, dst):
                continue
            start, d, length = _slide_line(board, rays, ray_len, line_dirs, opposite, player,
                                           src, dst, min_len)
            if length == 0:
                continue
            first = n
            buf, n = _push_extractions(board, rings, player, buf, n, src, dst, RM_LINE)
            for i in range(first, min(n, buf.shape[0])):
                buf[i, 4] = 1
            if length > min_len:
                pos = 0
                while line_cell(rays, start, d, pos) != dst:
                    pos += 1
                for off in range(length - min_len + 1):
                    if off <= pos < off + min_len:
                        buf, n = push(buf, n, MT_RECOVERY, src, dst, RM_LINE, 2, off)
    if n > start_n:
        return buf, n
    for src in range(board.shape[0]):
        if board[src, MARK] != player:
            continue
        for j in range(steps.shape[1]):
            dst = steps[src, j]
            if dst < 0 or board[dst, COLL] != 0 or board[dst, MARK] != 0:
                continue
            if board[dst, H] == 0:
                buf, n = _push_extractions(board, rings, player, buf, n, src, dst, RM_FALLBACK)
            else:
                buf, n = _push_extractions(board, rings, player, buf, n, src, dst, RM_STRIKE)
    return buf, n


@njit
def apply_recovery(board, rings, players, meta, rays, ray_len, line_dirs, opposite, player,
                   src, dst, mode, option, e, min_len):
    """Apply a ``recovery_slide`` (rules §11.3).

    A stack strike extracts first, then strikes. The two commute unless the extraction
    stack is the struck one and the extracted ring lies directly under its top: striking
    first would make that ring the top, which an extraction never takes. Both reference
    engines extract it there, and empty the stack when it had two rings (R113, R115).
    """
    board[src, MARK] = 0
    if mode == RM_STRIKE:
        extract_buried(board, rings, players, meta, e, player)
        eliminate_top(board, rings, players, meta, dst, 1, player)
        return
    board[dst, MARK] = player
    if mode == RM_FALLBACK:
        extract_buried(board, rings, players, meta, e, player)
        return
    start, d, length = line_through(board, rays, ray_len, line_dirs, opposite, dst, player, min_len)
    first, count = 0, length
    if option == 2:
        first, count = e, min_len
    for i in range(first, first + count):
        cell = line_cell(rays, start, d, i)
        board[cell, MARK] = 0
        board[cell, COLL] = player
        players[player, TERR] += 1
    if option != 2:
        extract_buried(board, rings, players, meta, e, player)
