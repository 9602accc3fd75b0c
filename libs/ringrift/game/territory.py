"""Territory: disconnected regions and their processing (rules §9).

Regions follow the reference engines (rules §9.1): with ``active`` the players
owning any ring in any stack,

1. for each player B owning a marker, split the cells that are neither collapsed
   nor B's markers into connected components (territory adjacency); a component
   whose set of stack controllers is a strict subset of ``active`` is a region;
2. split the non-collapsed cells into components; one with exactly one controller
   inside and a strict subset of ``active`` is a region. On a board without any
   marker an empty component (no controller) is a region too: the spec's answer to
   rules §16 D17, where the reference engines detect nothing (with a marker on the
   board, pass 1 already finds such pockets, as the engines do).

Regions are deduplicated by cell set and listed in discovery order, so a region
is identified within a state by its index. A region is processable for P when P
has a self-elimination target outside it (§9.2). Processing (§9.4) eliminates
every ring inside (credited to P), collapses the region and its border markers
(the engine rule of §9.7: adjacent markers, grown through 8-neighbour (x, y)
steps except on ``hexagonal``), then a self-elimination is pending.
"""

from __future__ import annotations

import numpy as np

from ringrift.game._jit import njit
from ringrift.game.codes import CAP, COLL, CTRL, MARK, MT_TERRITORY, TERR, H
from ringrift.game.moves_buffer import push
from ringrift.game.stacks import buried_index, credit


@njit
def active_colours(board, rings):
    """Bitmask of the players owning at least one ring in any stack (bit p = player p)."""
    mask = 0
    for c in range(board.shape[0]):
        for k in range(board[c, H]):
            mask |= 1 << rings[c, k]
    return mask


@njit
def _popcount(x):
    n = 0
    while x:
        x &= x - 1
        n += 1
    return n


@njit
def _collect(board, tnbrs, blocked, active, need_single, allow_empty, labels, queue, cells,
             offsets, nreg, ncell):
    """Label components of unblocked cells; append qualifying ones (deduplicated).

    ``need_single``: exactly one controller inside (pass 2), or none when ``allow_empty``.
    """
    ncells = board.shape[0]
    for i in range(ncells):
        labels[i] = -1
    comp = 0
    for s in range(ncells):
        if blocked[s] or labels[s] >= 0:
            continue
        head = 0
        tail = 1
        queue[0] = s
        labels[s] = comp
        colours = 0
        while head < tail:
            c = queue[head]
            head += 1
            if board[c, H] > 0:
                colours |= 1 << board[c, CTRL]
            for j in range(tnbrs.shape[1]):
                nb = tnbrs[c, j]
                if nb >= 0 and not blocked[nb] and labels[nb] < 0:
                    labels[nb] = comp
                    queue[tail] = nb
                    tail += 1
        size = tail
        ok = (colours & ~active) == 0 and colours != active
        if need_single and _popcount(colours) != 1 and not (allow_empty and colours == 0):
            ok = False
        if ok:
            # Sort the component's cells so equal sets compare equal.
            comp_cells = np.sort(queue[:size])
            dup = False
            for r in range(nreg):
                if offsets[r + 1] - offsets[r] != size:
                    continue
                same = True
                for i in range(size):
                    if cells[offsets[r] + i] != comp_cells[i]:
                        same = False
                        break
                if same:
                    dup = True
                    break
            if not dup:
                for i in range(size):
                    cells[ncell + i] = comp_cells[i]
                ncell += size
                nreg += 1
                offsets[nreg] = ncell
        comp += 1
    return nreg, ncell


@njit
def find_regions(board, rings, tnbrs, num_players):
    """All disconnected regions: ``(cells, offsets)``; region r is ``cells[offsets[r]:offsets[r+1]]``."""
    ncells = board.shape[0]
    passes = num_players + 1
    cells = np.empty(ncells * passes, dtype=np.int32)
    offsets = np.zeros(ncells * passes + 1, dtype=np.int32)
    nreg = 0
    ncell = 0
    any_stack = False
    for c in range(ncells):
        if board[c, H] > 0:
            any_stack = True
            break
    if not any_stack:
        return cells[:0], offsets[:1]
    active = active_colours(board, rings)
    labels = np.empty(ncells, dtype=np.int32)
    queue = np.empty(ncells, dtype=np.int32)
    blocked = np.empty(ncells, dtype=np.bool_)
    any_marker = False
    for b in range(1, num_players + 1):
        has_marker = False
        for c in range(ncells):
            if board[c, MARK] == b:
                has_marker = True
                break
        if not has_marker:
            continue
        any_marker = True
        for c in range(ncells):
            blocked[c] = board[c, COLL] != 0 or board[c, MARK] == b
        nreg, ncell = _collect(board, tnbrs, blocked, active, False, False, labels, queue,
                               cells, offsets, nreg, ncell)
    for c in range(ncells):
        blocked[c] = board[c, COLL] != 0
    # Rules §16 D17 (spec wins): with no marker anywhere, an empty collapse-bounded pocket
    # is still a region; the reference engines' pass 2 alone would miss it.
    nreg, ncell = _collect(board, tnbrs, blocked, active, True, not any_marker, labels, queue,
                           cells, offsets, nreg, ncell)
    return cells[:ncell], offsets[: nreg + 1]


@njit
def is_target_outside(board, rings, c, mask, player, recovery):
    """Is the stack on ``c`` (outside ``mask``) an eligible self-elimination target (§9.2)?"""
    if board[c, H] == 0 or mask[c]:
        return False
    if recovery:
        return buried_index(board, rings, c, player) >= 0
    return board[c, CTRL] == player


@njit
def region_mask(ncells, cells, offsets, r):
    """A boolean mask of region ``r``."""
    mask = np.zeros(ncells, dtype=np.bool_)
    for i in range(offsets[r], offsets[r + 1]):
        mask[cells[i]] = True
    return mask


@njit
def processable(board, rings, mask, player, recovery):
    """True if ``player`` has a self-elimination target outside the region ``mask``."""
    for c in range(board.shape[0]):
        if is_target_outside(board, rings, c, mask, player, recovery):
            return True
    return False


@njit
def gen_territory_moves(board, rings, cells, offsets, player, recovery, buf, n):
    """Append a ``choose_territory_option`` (region index, first cell) per processable region."""
    ncells = board.shape[0]
    for r in range(offsets.shape[0] - 1):
        mask = region_mask(ncells, cells, offsets, r)
        if processable(board, rings, mask, player, recovery):
            buf, n = push(buf, n, MT_TERRITORY, r, cells[offsets[r]], 0, 0, 0)
    return buf, n


@njit
def any_processable(board, rings, tnbrs, num_players, player, recovery):
    """True if ``player`` has at least one processable region."""
    cells, offsets = find_regions(board, rings, tnbrs, num_players)
    ncells = board.shape[0]
    for r in range(offsets.shape[0] - 1):
        if processable(board, rings, region_mask(ncells, cells, offsets, r), player, recovery):
            return True
    return False


@njit
def border_markers(board, tnbrs, border_nbrs, grow, mask):
    """The markers that collapse with region ``mask`` (engine rule, rules §9.7)."""
    ncells = board.shape[0]
    border = np.zeros(ncells, dtype=np.bool_)
    queue = np.empty(ncells, dtype=np.int32)
    tail = 0
    for c in range(ncells):
        if not mask[c]:
            continue
        for j in range(tnbrs.shape[1]):
            nb = tnbrs[c, j]
            if nb >= 0 and not mask[nb] and board[nb, MARK] != 0 and not border[nb]:
                border[nb] = True
                queue[tail] = nb
                tail += 1
    if grow:
        head = 0
        while head < tail:
            c = queue[head]
            head += 1
            for j in range(border_nbrs.shape[1]):
                nb = border_nbrs[c, j]
                if nb >= 0 and not mask[nb] and board[nb, MARK] != 0 and not border[nb]:
                    border[nb] = True
                    queue[tail] = nb
                    tail += 1
    return border


@njit
def process_region(board, rings, players, meta, tnbrs, border_nbrs, grow, player, mask):
    """Apply ``choose_territory_option`` on region ``mask`` for ``player`` (rules §9.4)."""
    border = border_markers(board, tnbrs, border_nbrs, grow, mask)
    gained = 0
    for c in range(board.shape[0]):
        if mask[c]:
            h = board[c, H]
            if h > 0:
                for k in range(h):
                    rings[c, k] = 0
                board[c, H] = 0
                board[c, CTRL] = 0
                board[c, CAP] = 0
                credit(players, meta, player, h)
        if mask[c] or border[c]:
            board[c, MARK] = 0
            if board[c, COLL] == 0:
                board[c, COLL] = player
                gained += 1
    players[player, TERR] += gained
