"""Non-capture movement (rules §6) and the marker effects shared with captures.

A stack of height ``h`` moves in a straight line along one of the movement rays
at least ``h`` cells, over empty cells and markers only, to a cell without a stack
or collapse. It leaves a marker behind, flips opponent markers it passes, collapses
its own, and loses its top ring when it lands on a marker.

``stack_can_act`` is the one reachability test the rules need: it answers whether a
(possibly hypothetical) stack of height ``h`` and cap ``cap`` on a cell has at least
one non-capture move or capture segment, which decides no-dead-placement (§5.1),
``skip_placement`` eligibility (§5.3) and "real actions" for last-player-standing.
"""

from __future__ import annotations

from ringrift.game._jit import njit
from ringrift.game.codes import CAP, COLL, CTRL, MARK, MT_CAPTURE, MT_MOVE, TERR, H
from ringrift.game.moves_buffer import push
from ringrift.game.stacks import eliminate_top, move_stack


@njit
def stack_can_act(board, rays, ray_len, c, h, cap):
    """True if a stack of height ``h``/cap ``cap`` on ``c`` can move or capture."""
    for d in range(rays.shape[1]):
        n = ray_len[c, d]
        for k in range(n):
            cell = rays[c, d, k]
            if board[cell, COLL] != 0:
                break
            if board[cell, H] > 0:
                if board[cell, CAP] <= cap:
                    for j in range(k + 1, n):
                        land = rays[c, d, j]
                        if board[land, COLL] != 0 or board[land, H] > 0:
                            break
                        if j + 1 >= h:
                            return True
                break
            if k + 1 >= h:
                return True
    return False


@njit
def player_can_move(board, rays, ray_len, player):
    """True if any stack ``player`` controls has a move or capture."""
    for c in range(board.shape[0]):
        if board[c, CTRL] == player and stack_can_act(
                board, rays, ray_len, c, board[c, H], board[c, CAP]):
            return True
    return False


@njit
def gen_from(board, rays, ray_len, c, buf, n, with_moves, move_type, capture_type):
    """Append the moves (if ``with_moves``) and capture segments of the stack on ``c``."""
    h = board[c, H]
    cap = board[c, CAP]
    for d in range(rays.shape[1]):
        m = ray_len[c, d]
        for k in range(m):
            cell = rays[c, d, k]
            if board[cell, COLL] != 0:
                break
            if board[cell, H] > 0:
                if board[cell, CAP] <= cap:
                    for j in range(k + 1, m):
                        land = rays[c, d, j]
                        if board[land, COLL] != 0 or board[land, H] > 0:
                            break
                        if j + 1 >= h:
                            buf, n = push(buf, n, capture_type, c, cell, land, d, j)
                break
            if with_moves and k + 1 >= h:
                buf, n = push(buf, n, move_type, c, cell, d, k, 0)
    return buf, n


@njit
def gen_movement(board, rays, ray_len, player, must_move, buf, n):
    """Append every ``move_stack`` and ``overtaking_capture`` of ``player`` (movement phase)."""
    for c in range(board.shape[0]):
        if board[c, CTRL] != player:
            continue
        if must_move >= 0 and c != must_move:
            continue
        buf, n = gen_from(board, rays, ray_len, c, buf, n, True, MT_MOVE, MT_CAPTURE)
    return buf, n


@njit
def mark_path(board, players, player, rays, src, d, stop, skip):
    """Marker effects on the cells ``rays[src, d, 0:stop]`` except index ``skip`` (§6.2 step 2)."""
    for k in range(stop):
        if k == skip:
            continue
        cell = rays[src, d, k]
        owner = board[cell, MARK]
        if owner == 0:
            continue
        if owner == player:
            board[cell, MARK] = 0
            board[cell, COLL] = player
            players[player, TERR] += 1
        else:
            board[cell, MARK] = player


@njit
def apply_move_stack(board, rings, players, meta, rays, player, src, dst, d, k):
    """Move the stack on ``src`` to ``dst`` (``k`` = index of ``dst`` on ray ``d``)."""
    mark_path(board, players, player, rays, src, d, k, -1)
    move_stack(board, rings, src, dst)
    board[src, MARK] = player
    if board[dst, MARK] != 0:
        board[dst, MARK] = 0
        eliminate_top(board, rings, players, meta, dst, 1, player)
