"""Ring placement (rules §5): legality with the no-dead-placement rule, and skips.

A player places 1-3 rings on an empty cell, or exactly one on any stack, never on
a marker or collapsed cell, within the own-colour supply cap, and only where the
resulting stack could then move or capture. ``skip_placement`` is a choice only
for a player who already has a stack that can act (or is recovery-eligible).
"""

from __future__ import annotations

from ringrift.game._jit import njit
from ringrift.game.codes import CAP, COLL, CTRL, HAND, MARK, MT_PLACE, H
from ringrift.game.movement import stack_can_act
from ringrift.game.moves_buffer import push


@njit
def _max_count(board, players, on_board, rings_per_player, player, c):
    """Largest count that passes the hand, supply and stack-size limits on ``c`` (0 = none)."""
    if board[c, COLL] != 0 or board[c, MARK] != 0:
        return 0
    limit = min(players[player, HAND], rings_per_player - on_board[player])
    if board[c, H] > 0:
        return min(limit, 1)
    return min(limit, 3)


@njit
def _placed_shape(board, player, c, count):
    """Height and cap of the stack on ``c`` after ``player`` places ``count`` rings."""
    h = board[c, H] + count
    cap = board[c, CAP] + count if board[c, CTRL] == player else count
    return h, cap


@njit
def placement_is_live(board, rays, ray_len, player, c, count):
    """No-dead-placement: would the stack on ``c`` after placing have a move or capture?"""
    h, cap = _placed_shape(board, player, c, count)
    return stack_can_act(board, rays, ray_len, c, h, cap)


@njit
def gen_placements(board, players, on_board, rays, ray_len, rings_per_player, player, buf, n):
    """Append every legal ``place_ring`` (each count validated on its own)."""
    for c in range(board.shape[0]):
        top = _max_count(board, players, on_board, rings_per_player, player, c)
        for count in range(1, top + 1):
            if placement_is_live(board, rays, ray_len, player, c, count):
                buf, n = push(buf, n, MT_PLACE, c, count, 0, 0, 0)
    return buf, n


@njit
def can_place(board, players, on_board, rays, ray_len, rings_per_player, player):
    """True if ``player`` has at least one legal placement."""
    for c in range(board.shape[0]):
        top = _max_count(board, players, on_board, rings_per_player, player, c)
        for count in range(1, top + 1):
            if placement_is_live(board, rays, ray_len, player, c, count):
                return True
    return False


@njit
def placement_is_legal(board, players, on_board, rays, ray_len, rings_per_player, player, c, count):
    """Full legality of placing ``count`` rings on ``c`` (rules §5.1 items 2-6)."""
    if count < 1 or count > _max_count(board, players, on_board, rings_per_player, player, c):
        return False
    return placement_is_live(board, rays, ray_len, player, c, count)
