"""Overtaking capture segments and chains (rules §7).

A segment jumps the first stack met along a ray (cap height not above the
attacker's cap) and lands on any free cell beyond it at distance ``>= height``.
The top ring of the target goes to the bottom of the attacker: capturing never
eliminates. Chains continue from the landing cell while a segment exists there.
"""

from __future__ import annotations

from ringrift.game._jit import njit
from ringrift.game.codes import CTRL, MARK, H
from ringrift.game.movement import gen_from, mark_path
from ringrift.game.stacks import add_at_bottom, eliminate_top, move_stack, pop_top


@njit
def gen_captures_from(board, rays, ray_len, player, c, buf, n, move_type):
    """Append the capture segments of ``player``'s stack on ``c`` (none if ``c`` is not theirs)."""
    if board[c, CTRL] != player:
        return buf, n
    return gen_from(board, rays, ray_len, c, buf, n, False, move_type, move_type)


@njit
def has_capture_from(board, rays, ray_len, player, c, buf):
    """True if ``player``'s stack on ``c`` has at least one capture segment."""
    _, n = gen_captures_from(board, rays, ray_len, player, c, buf, 0, 0)
    return n > 0


@njit
def apply_capture(board, rings, players, meta, rays, player, src, target, land, d, j):
    """Apply one segment ``src`` over ``target`` to ``land`` (index ``j`` on ray ``d``).

    The caller guarantees ``rings`` can hold the attacker plus one ring.
    """
    k = 0
    while rays[src, d, k] != target:
        k += 1
    mark_path(board, players, player, rays, src, d, j, k)
    move_stack(board, rings, src, land)
    board[src, MARK] = player
    captured = pop_top(board, rings, target)
    add_at_bottom(board, rings, land, captured)
    if board[land, MARK] != 0:
        board[land, MARK] = 0
        eliminate_top(board, rings, players, meta, land, 1, player)


@njit
def segment_target_height(board, target):
    """Height of a capture target (used to size the ring array before applying)."""
    return board[target, H]
