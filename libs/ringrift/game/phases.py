"""The phase machine (rules §4): legal move rows per phase, and applying one row.

``gen_legal`` lists exactly the moves of rules §4.3, including the bookkeeping
``no_*_action`` moves when a phase has nothing interactive: the engine never skips
a phase. ``apply_row`` applies one move row (``codes.py``) and performs the
transitions of §4.4: line exit, territory exit and turn end (victory check,
rotation, last-player-standing). Legality is *not* checked here: callers validate
a row against ``gen_legal`` first (``engine.apply_move`` does).

``g`` is the geometry tuple ``(rays, ray_len, line_dirs, opposite, territory_nbrs,
step_nbrs, border_nbrs)`` of ``geometry.Geometry``.
"""

from __future__ import annotations

import numpy as np

from ringrift.game._jit import njit
from ringrift.game.capture import apply_capture, gen_captures_from, has_capture_from
from ringrift.game.codes import (
    CAP,
    CTRL,
    EC_LINE,
    EC_RECOVERY,
    EC_TERRITORY,
    HAND,
    M_ATTACKER,
    M_CHAIN,
    M_GROW_BORDER,
    M_LAST_ACTOR,
    M_LINE_LEN,
    M_MOVE_COUNT,
    M_MUST_MOVE,
    M_NUM_PLAYERS,
    M_P2_MOVED,
    M_PENDING_LINE,
    M_PENDING_TERR,
    M_PHASE,
    M_PLAYER,
    M_REASON,
    M_RINGS_PER_PLAYER,
    M_STATUS,
    M_SWAP_ENABLED,
    M_SWAP_USED,
    M_TURN_CHANGED,
    M_TURN_INDEX,
    M_TURN_RECOVERY,
    M_WINNER,
    MT_CAPTURE,
    MT_CONTINUE,
    MT_ELIMINATE,
    MT_FORCED,
    MT_LINE_OPTION,
    MT_MOVE,
    MT_NO_LINE,
    MT_NO_MOVEMENT,
    MT_NO_PLACEMENT,
    MT_NO_TERRITORY,
    MT_PLACE,
    MT_PROCESS_LINE,
    MT_RECOVERY,
    MT_SKIP_CAPTURE,
    MT_SKIP_PLACEMENT,
    MT_SKIP_RECOVERY,
    MT_SKIP_TERRITORY,
    MT_SWAP,
    MT_TERRITORY,
    PH_CAPTURE,
    PH_CHAIN,
    PH_FORCED,
    PH_GAME_OVER,
    PH_LINE,
    PH_MOVEMENT,
    PH_PLACEMENT,
    PH_TERRITORY,
    RS_LPS,
    ST_ACTIVE,
    ST_COMPLETED,
    H,
)
from ringrift.game.lines import collapse_cells, find_lines, gen_line_moves, has_line
from ringrift.game.movement import apply_move_stack, gen_movement, player_can_move
from ringrift.game.moves_buffer import new_buffer, push
from ringrift.game.placement import gen_placements
from ringrift.game.recovery import apply_recovery, gen_recovery, is_eligible
from ringrift.game.stacks import (
    add_on_top,
    colour_on_board,
    eliminate_top,
    extract_buried,
    grow_rings,
)
from ringrift.game.territory import (
    any_processable,
    find_regions,
    gen_territory_moves,
    is_target_outside,
    process_region,
    region_mask,
)
from ringrift.game.victory import (
    evaluate_victory,
    lps_turn_start,
    next_player,
    record_eliminations,
)


@njit
def controls_stack(board, player):
    """True if ``player`` controls at least one stack."""
    for c in range(board.shape[0]):
        if board[c, CTRL] == player:
            return True
    return False


@njit
def swap_offered(meta):
    """The pie rule is on offer (rules §13): player 2's first turn, before any other move."""
    return (meta[M_SWAP_ENABLED] == 1 and meta[M_SWAP_USED] == 0 and meta[M_P2_MOVED] == 0
            and meta[M_NUM_PLAYERS] == 2 and meta[M_PLAYER] == 2
            and meta[M_PHASE] == PH_PLACEMENT and meta[M_STATUS] == ST_ACTIVE)


@njit
def _skip_placement_allowed(board, rings, players, rays, ray_len, p):
    if players[p, HAND] <= 0:
        return False
    if controls_stack(board, p):
        return player_can_move(board, rays, ray_len, p)
    return is_eligible(board, rings, p)


@njit
def gen_legal(board, rings, players, meta, pending_region, g):
    """All legal move rows of the player to move: ``(buf, n)``; empty only when the game is over."""
    buf, n = _gen_into(board, rings, players, meta, pending_region, g, new_buffer(256))
    if n > buf.shape[0]:  # the first buffer only counted the overflow: generate again
        buf, n = _gen_into(board, rings, players, meta, pending_region, g, new_buffer(n))
    return buf, n


@njit
def _gen_into(board, rings, players, meta, pending_region, g, buf):
    rays, ray_len, line_dirs, opposite, tnbrs, steps, _ = g
    n = 0
    if meta[M_STATUS] != ST_ACTIVE:
        return buf, n
    p = meta[M_PLAYER]
    phase = meta[M_PHASE]
    if phase == PH_PLACEMENT:
        if swap_offered(meta):
            buf, n = push(buf, n, MT_SWAP, 0, 0, 0, 0, 0)
        if players[p, HAND] > 0:
            on_board = colour_on_board(board, rings, meta[M_NUM_PLAYERS])
            buf, n = gen_placements(board, players, on_board, rays, ray_len,
                                    meta[M_RINGS_PER_PLAYER], p, buf, n)
            if _skip_placement_allowed(board, rings, players, rays, ray_len, p):
                buf, n = push(buf, n, MT_SKIP_PLACEMENT, 0, 0, 0, 0, 0)
        if n == 0:
            buf, n = push(buf, n, MT_NO_PLACEMENT, 0, 0, 0, 0, 0)
    elif phase == PH_MOVEMENT:
        buf, n = gen_movement(board, rays, ray_len, p, meta[M_MUST_MOVE], buf, n)
        if is_eligible(board, rings, p):
            buf, n = push(buf, n, MT_SKIP_RECOVERY, 0, 0, 0, 0, 0)
            buf, n = gen_recovery(board, rings, rays, ray_len, line_dirs, opposite, steps, p,
                                  meta[M_LINE_LEN], buf, n)
        if n == 0:
            buf, n = push(buf, n, MT_NO_MOVEMENT, 0, 0, 0, 0, 0)
    elif phase == PH_CAPTURE:
        if meta[M_ATTACKER] >= 0:
            buf, n = gen_captures_from(board, rays, ray_len, p, meta[M_ATTACKER], buf, n,
                                       MT_CAPTURE)
        else:  # a loaded state without history: the attacker is unknown, allow any stack
            for c in range(board.shape[0]):
                buf, n = gen_captures_from(board, rays, ray_len, p, c, buf, n, MT_CAPTURE)
        buf, n = push(buf, n, MT_SKIP_CAPTURE, 0, 0, 0, 0, 0)
    elif phase == PH_CHAIN:
        if meta[M_CHAIN] >= 0:
            buf, n = gen_captures_from(board, rays, ray_len, p, meta[M_CHAIN], buf, n,
                                       MT_CONTINUE)
    elif phase == PH_LINE:
        if meta[M_PENDING_LINE]:
            for c in range(board.shape[0]):
                if board[c, CTRL] == p:
                    buf, n = push(buf, n, MT_ELIMINATE, c, EC_LINE, 0, 0, 0)
        else:
            lines = find_lines(board, rays, ray_len, line_dirs, opposite, p, meta[M_LINE_LEN])
            buf, n = gen_line_moves(lines, meta[M_LINE_LEN], buf, n)
        if n == 0:
            buf, n = push(buf, n, MT_NO_LINE, 0, 0, 0, 0, 0)
    elif phase == PH_TERRITORY:
        recovery = meta[M_TURN_RECOVERY] == 1
        if meta[M_PENDING_TERR]:
            context = EC_RECOVERY if recovery else EC_TERRITORY
            for c in range(board.shape[0]):
                if is_target_outside(board, rings, c, pending_region, p, recovery):
                    buf, n = push(buf, n, MT_ELIMINATE, c, context, 0, 0, 0)
        else:
            cells, offsets = find_regions(board, rings, tnbrs, meta[M_NUM_PLAYERS])
            buf, n = gen_territory_moves(board, rings, cells, offsets, p, recovery, buf, n)
            if n > 0:
                buf, n = push(buf, n, MT_SKIP_TERRITORY, 0, 0, 0, 0, 0)
        if n == 0:
            buf, n = push(buf, n, MT_NO_TERRITORY, 0, 0, 0, 0, 0)
    elif phase == PH_FORCED:
        for c in range(board.shape[0]):
            if board[c, CTRL] == p:
                buf, n = push(buf, n, MT_FORCED, c, 0, 0, 0, 0)
    return buf, n


@njit
def _enter_line(meta):
    meta[M_MUST_MOVE] = -1
    meta[M_CHAIN] = -1
    meta[M_ATTACKER] = -1
    meta[M_PHASE] = PH_LINE


@njit
def _finish(meta, winner, reason):
    meta[M_STATUS] = ST_COMPLETED
    meta[M_WINNER] = winner
    meta[M_REASON] = reason
    meta[M_PHASE] = PH_GAME_OVER


@njit
def end_if_won(board, rings, players, meta, g):
    """Stamp newly eliminated players, then end the game if a condition of rules §12.2 holds.

    Returns the winner, 0 when the game goes on. Play runs it at turn end only (rules
    §12.1); readers of PY records also run it after a record's last move (§16 D3).
    """
    record_eliminations(board, rings, players, meta)
    winner, reason = evaluate_victory(board, rings, players, meta, g[0], g[1])
    if winner:
        _finish(meta, winner, reason)
    return winner


@njit
def _turn_end(board, rings, players, meta, g):
    rays, ray_len = g[0], g[1]
    meta[M_TURN_INDEX] += 1
    if end_if_won(board, rings, players, meta, g):
        return
    meta[M_PLAYER] = next_player(board, rings, players, meta)
    meta[M_PHASE] = PH_PLACEMENT
    meta[M_MUST_MOVE] = -1
    meta[M_CHAIN] = -1
    meta[M_ATTACKER] = -1
    meta[M_PENDING_LINE] = 0
    meta[M_PENDING_TERR] = 0
    meta[M_TURN_CHANGED] = 0
    meta[M_TURN_RECOVERY] = 0
    winner = lps_turn_start(board, rings, players, meta, rays, ray_len)
    if winner:
        _finish(meta, winner, RS_LPS)


@njit
def _territory_exit(board, rings, players, meta, g):
    p = meta[M_PLAYER]
    if meta[M_TURN_CHANGED] == 0 and controls_stack(board, p):
        meta[M_PHASE] = PH_FORCED
    else:
        _turn_end(board, rings, players, meta, g)


@njit
def _line_exit(board, rings, meta, g):
    p = meta[M_PLAYER]
    if any_processable(board, rings, g[4], meta[M_NUM_PLAYERS], p, meta[M_TURN_RECOVERY] == 1):
        meta[M_PHASE] = PH_TERRITORY
    elif meta[M_TURN_CHANGED] == 0 and controls_stack(board, p):
        meta[M_PHASE] = PH_FORCED
    else:
        meta[M_PHASE] = PH_TERRITORY


@njit
def _after_lines_changed(board, rings, meta, g):
    """Stay in line processing while a reward is pending or a line remains, else line exit."""
    rays, ray_len, line_dirs, opposite = g[0], g[1], g[2], g[3]
    p = meta[M_PLAYER]
    if meta[M_PENDING_LINE] or has_line(board, rays, ray_len, line_dirs, opposite, p,
                                        meta[M_LINE_LEN]):
        return
    _line_exit(board, rings, meta, g)


@njit
def is_no_change(t):
    """Moves that leave "no board change this turn" true (rules §4.5)."""
    return (t == MT_NO_PLACEMENT or t == MT_NO_MOVEMENT or t == MT_NO_LINE
            or t == MT_NO_TERRITORY or t == MT_SKIP_PLACEMENT or t == MT_SKIP_CAPTURE
            or t == MT_SKIP_RECOVERY or t == MT_SKIP_TERRITORY)


@njit
def apply_row(board, rings, players, meta, pending_region, g, mv, region):
    """Apply the legal move row ``mv``; returns the (possibly grown) ``rings`` array.

    ``region`` is the cell mask of a ``choose_territory_option``; pass an empty array to
    use region ``mv[1]`` of this state's region enumeration.
    """
    rays, ray_len, line_dirs, opposite, tnbrs, _, border_nbrs = g
    p = meta[M_PLAYER]
    t = mv[0]
    meta[M_LAST_ACTOR] = p
    meta[M_MOVE_COUNT] += 1
    if not is_no_change(t):
        meta[M_TURN_CHANGED] = 1
    if p == 2 and t != MT_SWAP:
        meta[M_P2_MOVED] = 1

    if t == MT_PLACE:
        rings = grow_rings(rings, board[mv[1], H] + mv[2])
        add_on_top(board, rings, mv[1], p, mv[2])
        players[p, HAND] -= mv[2]
        meta[M_MUST_MOVE] = mv[1]
        meta[M_PHASE] = PH_MOVEMENT
    elif t == MT_SKIP_PLACEMENT or t == MT_NO_PLACEMENT:
        meta[M_PHASE] = PH_MOVEMENT
    elif t == MT_SWAP:
        meta[M_SWAP_USED] = 1
    elif t == MT_MOVE:
        apply_move_stack(board, rings, players, meta, rays, p, mv[1], mv[2], mv[3], mv[4])
        if has_capture_from(board, rays, ray_len, p, mv[2], new_buffer(8)):
            meta[M_PHASE] = PH_CAPTURE
            meta[M_ATTACKER] = mv[2]
            meta[M_MUST_MOVE] = -1
        else:
            _enter_line(meta)
    elif t == MT_CAPTURE or t == MT_CONTINUE:
        rings = grow_rings(rings, board[mv[1], H] + 1)
        apply_capture(board, rings, players, meta, rays, p, mv[1], mv[2], mv[3], mv[4], mv[5])
        if has_capture_from(board, rays, ray_len, p, mv[3], new_buffer(8)):
            meta[M_PHASE] = PH_CHAIN
            meta[M_CHAIN] = mv[3]
            meta[M_MUST_MOVE] = -1
            meta[M_ATTACKER] = -1
        else:
            _enter_line(meta)
    elif t == MT_SKIP_CAPTURE or t == MT_SKIP_RECOVERY or t == MT_NO_MOVEMENT:
        _enter_line(meta)
    elif t == MT_RECOVERY:
        apply_recovery(board, rings, players, meta, rays, ray_len, line_dirs, opposite, p,
                       mv[1], mv[2], mv[3], mv[4], mv[5], meta[M_LINE_LEN])
        meta[M_TURN_RECOVERY] = 1
        _enter_line(meta)
    elif t == MT_PROCESS_LINE or t == MT_LINE_OPTION:
        start, d, length = mv[1], mv[2], mv[3]
        if t == MT_LINE_OPTION and mv[4] >= 0:
            collapse_cells(board, players, rays, p, start, d, mv[4], meta[M_LINE_LEN])
        else:
            collapse_cells(board, players, rays, p, start, d, 0, length)
            if controls_stack(board, p):
                meta[M_PENDING_LINE] = 1
        _after_lines_changed(board, rings, meta, g)
    elif t == MT_NO_LINE:
        _line_exit(board, rings, meta, g)
    elif t == MT_ELIMINATE:
        c = mv[1]
        if meta[M_PHASE] == PH_LINE:
            eliminate_top(board, rings, players, meta, c, 1, p)
            meta[M_PENDING_LINE] = 0
        else:
            if meta[M_TURN_RECOVERY] == 1:
                extract_buried(board, rings, players, meta, c, p)
            else:
                eliminate_top(board, rings, players, meta, c, board[c, CAP], p)
            meta[M_PENDING_TERR] = 0
            pending_region[:] = False
            if any_processable(board, rings, tnbrs, meta[M_NUM_PLAYERS], p,
                               meta[M_TURN_RECOVERY] == 1):
                meta[M_PHASE] = PH_TERRITORY
            else:
                _territory_exit(board, rings, players, meta, g)
    elif t == MT_TERRITORY:
        if region.shape[0] == 0:
            cells, offsets = find_regions(board, rings, tnbrs, meta[M_NUM_PLAYERS])
            region = region_mask(board.shape[0], cells, offsets, mv[1])
        process_region(board, rings, players, meta, tnbrs, border_nbrs,
                       meta[M_GROW_BORDER] == 1, p, region)
        pending_region[:] = region
        meta[M_PENDING_TERR] = 1
    elif t == MT_SKIP_TERRITORY or t == MT_NO_TERRITORY:
        _territory_exit(board, rings, players, meta, g)
    elif t == MT_FORCED:
        eliminate_top(board, rings, players, meta, mv[1], board[mv[1], CAP], p)
        _turn_end(board, rings, players, meta, g)
    return rings


@njit
def random_playout(board, rings, players, meta, pending_region, g, seed, max_moves):
    """Play uniformly random legal moves until the game ends or ``max_moves`` are made.

    Returns ``(rings, moves_made, legal_moves_seen)``; used by the benchmark and the
    property tests (every state is mutated in place).
    """
    np.random.seed(seed)
    made = 0
    seen = 0
    empty = np.zeros(0, dtype=np.bool_)
    while made < max_moves and meta[M_STATUS] == ST_ACTIVE:
        buf, n = gen_legal(board, rings, players, meta, pending_region, g)
        seen += n
        k = np.random.randint(0, n)
        rings = apply_row(board, rings, players, meta, pending_region, g, buf[k], empty)
        made += 1
    return rings, made, seen
