"""Game end (rules §12): victory at turn end, last-player-standing rounds, stalemate.

``evaluate_victory`` runs at every turn end, in the order of rules §12.2: ring
elimination, territory, early last-player-standing, then (bare board only) global
stalemate resolved by the tie-break ladder of §12.4. ``lps_turn_start`` keeps the
round-based last-player-standing tracker of §12.3 at the start of each turn.
"""

from __future__ import annotations

import numpy as np

from ringrift.game._jit import njit
from ringrift.game.codes import (
    COLL,
    CTRL,
    ELIM,
    ELIM_TURN,
    HAND,
    M_LAST_ACTOR,
    M_LPS_CONSEC,
    M_LPS_EXCL,
    M_LPS_FIRST,
    M_LPS_MASK,
    M_LPS_REQUIRED,
    M_NUM_PLAYERS,
    M_PLAYER,
    M_RINGS_PER_PLAYER,
    M_TERR_MINIMUM,
    M_TURN_INDEX,
    M_VICTORY_THRESHOLD,
    MARK,
    RS_LPS,
    RS_RING_ELIMINATION,
    RS_TERRITORY,
    RS_TIEBREAK,
    H,
)
from ringrift.game.movement import player_can_move
from ringrift.game.placement import can_place
from ringrift.game.stacks import colour_on_board


@njit
def has_material(players, on_board, p):
    """True while ``p`` has a ring anywhere (not permanently eliminated, R175)."""
    return players[p, HAND] > 0 or on_board[p] > 0


@njit
def has_real_action(board, players, on_board, rays, ray_len, rings_per_player, p):
    """A legal placement, move or capture exists for ``p`` (LPS "real action", §12.3)."""
    if players[p, HAND] > 0 and can_place(board, players, on_board, rays, ray_len,
                                          rings_per_player, p):
        return True
    return player_can_move(board, rays, ray_len, p)


@njit
def _single_best(values, num_players):
    """The one player with the strictly highest positive value, else 0."""
    best = 0
    best_value = 0
    tie = False
    for p in range(1, num_players + 1):
        if values[p] > best_value:
            best, best_value, tie = p, values[p], False
        elif values[p] == best_value and best_value > 0:
            tie = True
    return 0 if tie else best


@njit
def _count_by_owner(board, column, num_players):
    """Cells whose ``column`` names an owner, counted per player (index = player number)."""
    counts = np.zeros(num_players + 1, dtype=np.int64)
    for c in range(board.shape[0]):
        if board[c, column] != 0:
            counts[board[c, column]] += 1
    return counts


@njit
def collapsed_by_owner(board, num_players):
    """Collapsed cells owned by each player (index = player number)."""
    return _count_by_owner(board, COLL, num_players)


@njit
def markers_by_owner(board, num_players):
    """Markers owned by each player (index = player number)."""
    return _count_by_owner(board, MARK, num_players)


@njit
def stalemate_winner(board, players, meta):
    """Global stalemate ladder (rules §12.4): ``(winner, reason)``."""
    n = meta[M_NUM_PLAYERS]
    winner = _single_best(collapsed_by_owner(board, n), n)
    if winner:
        return winner, RS_TERRITORY
    converted = np.zeros(n + 1, dtype=np.int64)
    for p in range(1, n + 1):
        converted[p] = players[p, ELIM] + players[p, HAND]
    winner = _single_best(converted, n)
    if winner:
        return winner, RS_RING_ELIMINATION
    winner = _single_best(markers_by_owner(board, n), n)
    if winner:
        return winner, RS_LPS
    if meta[M_LAST_ACTOR] > 0:
        return meta[M_LAST_ACTOR], RS_LPS
    return 1, RS_TIEBREAK


@njit
def evaluate_victory(board, rings, players, meta, rays, ray_len):
    """Turn-end victory check (rules §12.2): ``(winner, reason)``, winner 0 if not over."""
    n = meta[M_NUM_PLAYERS]
    for p in range(1, n + 1):
        if players[p, ELIM] >= meta[M_VICTORY_THRESHOLD]:
            return p, RS_RING_ELIMINATION
    owned = collapsed_by_owner(board, n)
    total = owned.sum()
    for p in range(1, n + 1):
        if owned[p] >= meta[M_TERR_MINIMUM] and owned[p] > total - owned[p]:
            return p, RS_TERRITORY
    on_board = colour_on_board(board, rings, n)
    controllers = 0
    sole = 0
    for p in range(1, n + 1):
        for c in range(board.shape[0]):
            if board[c, CTRL] == p:
                controllers += 1
                sole = p
                break
    if controllers == 1:
        others_out = True
        for p in range(1, n + 1):
            if p != sole and has_material(players, on_board, p):
                others_out = False
        if others_out:
            return sole, RS_LPS
    for c in range(board.shape[0]):
        if board[c, H] > 0:
            return 0, 0
    for p in range(1, n + 1):
        if players[p, HAND] > 0 and can_place(board, players, on_board, rays, ray_len,
                                              meta[M_RINGS_PER_PLAYER], p):
            return 0, 0
    return stalemate_winner(board, players, meta)


@njit
def record_eliminations(board, rings, players, meta):
    """Stamp the turn index on players who just lost their last ring (ranking, §12.5)."""
    n = meta[M_NUM_PLAYERS]
    on_board = colour_on_board(board, rings, n)
    for p in range(1, n + 1):
        if players[p, ELIM_TURN] < 0 and not has_material(players, on_board, p):
            players[p, ELIM_TURN] = meta[M_TURN_INDEX]


@njit
def next_player(board, rings, players, meta):
    """The next seat after the current player that still has a ring anywhere."""
    n = meta[M_NUM_PLAYERS]
    on_board = colour_on_board(board, rings, n)
    p = meta[M_PLAYER]
    for _ in range(n):
        p = p % n + 1
        if has_material(players, on_board, p):
            return p
    return meta[M_PLAYER]


@njit
def lps_turn_start(board, rings, players, meta, rays, ray_len):
    """Update last-player-standing rounds for the player to move; return an LPS winner or 0."""
    n = meta[M_NUM_PLAYERS]
    rpp = meta[M_RINGS_PER_PLAYER]
    p = meta[M_PLAYER]
    on_board = colour_on_board(board, rings, n)
    first = meta[M_LPS_FIRST]
    if first == 0 or not has_material(players, on_board, first):
        meta[M_LPS_FIRST] = p
        meta[M_LPS_MASK] = 0
        if meta[M_LPS_EXCL] != 0 and not has_material(players, on_board, meta[M_LPS_EXCL]):
            meta[M_LPS_EXCL] = 0
            meta[M_LPS_CONSEC] = 0
    elif p == first:
        exclusive = 0
        count = 0
        for q in range(1, n + 1):
            if (meta[M_LPS_MASK] >> q) & 1 and has_material(players, on_board, q):
                count += 1
                exclusive = q
        if count == 1:
            if exclusive == meta[M_LPS_EXCL]:
                meta[M_LPS_CONSEC] += 1
            else:
                meta[M_LPS_EXCL] = exclusive
                meta[M_LPS_CONSEC] = 1
        else:
            meta[M_LPS_EXCL] = 0
            meta[M_LPS_CONSEC] = 0
        meta[M_LPS_MASK] = 0
    real = has_real_action(board, players, on_board, rays, ray_len, rpp, p)
    if real:
        meta[M_LPS_MASK] |= 1 << p
    if not (real and meta[M_LPS_CONSEC] >= meta[M_LPS_REQUIRED] and meta[M_LPS_EXCL] == p):
        return 0
    for q in range(1, n + 1):
        if q != p and has_material(players, on_board, q) and has_real_action(
                board, players, on_board, rays, ray_len, rpp, q):
            return 0
    return p
