"""The public rules API: create a game, list legal moves, apply a move, rank players, and
end a recorded game where RingRift's Python engine ended it (``end_by_after_move_check``).

``legal_moves``/``apply_move`` work with wire ``Move`` objects and validate every
received move against the legal set (wire-format §5.4). Search and benchmarks
that need raw speed use the row API instead (``legal_rows``/``apply_row``), whose
moves are the int rows of ``codes.py``; both paths run the same kernels.
"""

from __future__ import annotations

import numpy as np

from ringrift.configs import GameConfig
from ringrift.game import codes as C
from ringrift.game import phases
from ringrift.game.codec import find_row, row_to_move, rows_to_moves
from ringrift.game.errors import IllegalMoveError
from ringrift.game.geometry import (
    RINGS_PER_PLAYER,
    TOTAL_SPACES,
    build_geometry,
    geometry_for,
    line_length,
    territory_minimum,
    victory_threshold,
)
from ringrift.game.move import Move, MoveType
from ringrift.game.state import GameState
from ringrift.game.territory import find_regions
from ringrift.game.trusted import is_overlength_process_line, trusted_row
from ringrift.game.victory import collapsed_by_owner, lps_turn_start, markers_by_owner

_EMPTY_MASK = np.zeros(0, dtype=np.bool_)


def initial_state(config: GameConfig, pie_rule: bool = False, *, board_size: int | None = None,
                  rings_per_player: int | None = None, lps_rounds_required: int = 3,
                  adjacent_border_only: bool = False) -> GameState:
    """The starting position of ``config`` (rules §3.1).

    Args:
        config: board type and player count.
        pie_rule: offer ``swap_sides`` to player 2 (2-player games only; off by default).
        board_size: wire ``board.size`` for a non-standard board (hex boards: 2r + 1).
        rings_per_player: ``rulesOptions.ringsPerPlayer`` override (experiments only).
        lps_rounds_required: consecutive exclusive rounds for last-player-standing.
        adjacent_border_only: collapse only the markers adjacent to a processed region (the
            normative reading of rules §9.7) instead of the reference engines' rule, which
            also collapses marker clusters connected to them (default, as in every record).
    """
    geo = geometry_for(config) if board_size is None else build_geometry(config.board_type,
                                                                         board_size)
    state = GameState(config, geo)
    rings = rings_per_player or RINGS_PER_PLAYER[config.board_type]
    total = TOTAL_SPACES[config.board_type]
    n = config.num_players
    meta = state.meta
    meta[C.M_PLAYER] = 1
    meta[C.M_PHASE] = C.PH_PLACEMENT
    meta[C.M_STATUS] = C.ST_ACTIVE
    meta[C.M_SWAP_ENABLED] = 1 if (pie_rule and n == 2) else 0
    meta[C.M_LPS_REQUIRED] = lps_rounds_required
    meta[C.M_VICTORY_THRESHOLD] = victory_threshold(rings, n)
    meta[C.M_TERR_MINIMUM] = territory_minimum(total, n)
    meta[C.M_RINGS_PER_PLAYER] = rings
    meta[C.M_LINE_LEN] = line_length(config.board_type, n)
    if adjacent_border_only:
        meta[C.M_GROW_BORDER] = 0
    state.players[1:, C.HAND] = rings
    if pie_rule and n == 2:
        state.rules_options["swapRuleEnabled"] = True
    if rings_per_player:
        state.rules_options["ringsPerPlayer"] = rings_per_player
    lps_turn_start(state.board, state.rings, state.players, meta, geo.rays, geo.ray_len)
    return state


def _legal(state: GameState) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    if state._legal is None:
        buf, n = phases.gen_legal(state.board, state.rings, state.players, state.meta,
                                  state.pending_region, state.geometry_tuple())
        rows = buf[:n]
        rows.setflags(write=False)
        regions = None
        if n and (rows[:, 0] == C.MT_TERRITORY).any():
            regions = find_regions(state.board, state.rings, state.geometry.territory_nbrs,
                                   state.num_players)
        state._legal = (rows, regions, None)
    return state._legal[0], state._legal[1]


def legal_rows(state: GameState) -> np.ndarray:
    """Legal moves as engine rows (read-only); empty only when the game is over."""
    return _legal(state)[0]


def legal_moves(state: GameState) -> list[Move]:
    """Every legal move of the player to move, bookkeeping moves included.

    Never empty in a non-terminal state; empty once the game is over.
    """
    rows, regions = _legal(state)
    cached = state._legal[2] if state._legal else None
    if cached is None:
        cached = rows_to_moves(state, rows, regions)
        state._legal = (rows, regions, cached)
    return list(cached)


def apply_row(state: GameState, row: np.ndarray, *, region: np.ndarray | None = None,
              record: Move | None = None) -> GameState:
    """A new state after the legal row ``row`` (not validated: take it from ``legal_rows``)."""
    child = state.copy()
    child.rings = phases.apply_row(child.board, child.rings, child.players, child.meta,
                                   child.pending_region, child.geometry_tuple(),
                                   np.array(row, dtype=np.int32),  # writable: one compiled type
                                   _EMPTY_MASK if region is None else region)
    if record is None:
        regions = _legal(state)[1] if row[0] == C.MT_TERRITORY else None
        record = rows_to_moves(state, np.asarray(row, dtype=np.int32)[None, :], regions)[0]
    child._record(record)
    return child


def apply_move(state: GameState, move: Move, *, trust_payload: bool = False,
               trust_region_payload: bool = False) -> GameState:
    """A new state after ``move``; ``state`` is unchanged.

    Args:
        state: the position.
        move: the move; it must match one of ``legal_moves(state)`` (under-specified
            fields are resolved as described in ``codec.py``).
        trust_payload: when the move is not in the legal set, apply the geometry it carries
            the way the reference engines' apply paths do (wire-format §5.4, §10.8): a
            ``choose_territory_option`` on the cells it names (the processability
            prerequisite is still checked), a capture segment along one ray without the
            distance and cap-height checks, an ``eliminate_rings_from_stack`` on a stack of
            the mover's, and a ``process_line`` on an overlength line as TS's no-op (rules
            §16 D6). For conformance vectors and foreign records; never for play.
        trust_region_payload: older name of ``trust_payload``.

    A ``process_line`` on an overlength line chooses no option, which the rules require
    there (rules §8.3, §16 D6): it is refused (send ``choose_line_option``), and under
    ``trust_payload`` it is recorded and collapses nothing. It is never read as Option 1.

    Returns:
        The state after the move.

    Raises:
        IllegalMoveError: the game is over, it is another player's turn, or the move is
            not legal here; the message says which.
    """
    if state.is_terminal:
        raise IllegalMoveError(f"{move.describe()}: the game is over")
    if move.type in (MoveType.RESIGN, MoveType.TIMEOUT):
        return _end_by_host(state, move)
    if move.player != state.current_player:
        raise IllegalMoveError(
            f"{move.describe()}: it is player {state.current_player}'s turn")
    rows, regions = _legal(state)
    index = _cached_index(state, move)
    if index < 0:
        index = find_row(state, move, rows, regions)
    if index >= 0:
        legal = state._legal[2] if state._legal else None
        record = legal[index] if legal is not None else row_to_move(state, rows[index], regions)
        return apply_row(state, rows[index], record=record)
    overlength_line = is_overlength_process_line(state, move, rows)
    if trust_payload or trust_region_payload:
        if overlength_line:
            return _record_only(state, move)
        row, region = trusted_row(state, move)
        return apply_row(state, row, region=region, record=move)
    if overlength_line:
        raise IllegalMoveError(
            f"{move.describe()}: the line is longer than {state.line_length}, so process_line "
            "chooses no option; send choose_line_option with collapsedMarkers = every cell "
            "(Option 1) or a contiguous block of the line length (Option 2) (rules §8.3, D6)")
    allowed = sorted({m.type.value for m in legal_moves(state)})
    raise IllegalMoveError(
        f"{move.describe()}: not legal in phase {state.phase}; legal move types here: "
        f"{', '.join(allowed)}")


def end_by_after_move_check(state: GameState) -> GameState | None:
    """The game ended where PY's after-every-move victory check ends it, or ``None``.

    Our play checks victory at turn end (rules §12.1, the spec's timing) and this does
    not change that. PY checks after every move (§16 D3), so its records often stop
    mid-turn, e.g. right after a ``choose_territory_option`` or a line reward. A reader
    of a record calls this on the state after the record's last move: when a victory
    condition of rules §12.2 holds there, the result is a copy of the state completed with
    that condition's winner and reason (what PY reports); ``None`` when the game is already
    over or no condition holds (the record is an incomplete game).

    Args:
        state: the position after a record's last move.

    Returns:
        The finished state, or ``None``.
    """
    if state.is_terminal:
        return None
    child = state.copy()
    if not phases.end_if_won(child.board, child.rings, child.players, child.meta,
                             child.geometry_tuple()):
        return None
    return child


def _cached_index(state: GameState, move: Move) -> int:
    """Position of ``move`` in this state's listed moves when it is one of those objects."""
    listed = state._legal[2] if state._legal else None
    if listed is not None:
        for i, candidate in enumerate(listed):
            if candidate is move:
                return i
    return -1


def _record_only(state: GameState, move: Move) -> GameState:
    """A trusted move the reference engines apply as a no-op: recorded, nothing else changes."""
    child = state.copy()
    child.meta[C.M_MOVE_COUNT] += 1
    child.meta[C.M_LAST_ACTOR] = move.player
    child.meta[C.M_TURN_CHANGED] = 1
    child._record(move)
    return child


def _end_by_host(state: GameState, move: Move) -> GameState:
    """``resign``/``timeout``: the game completes; in 2-player games the other seat wins."""
    child = state.copy()
    meta = child.meta
    meta[C.M_STATUS] = C.ST_COMPLETED
    meta[C.M_PHASE] = C.PH_GAME_OVER
    meta[C.M_REASON] = C.RS_RESIGNATION if move.type is MoveType.RESIGN else C.RS_TIMEOUT
    meta[C.M_WINNER] = (3 - move.player) if child.num_players == 2 else 0
    meta[C.M_MOVE_COUNT] += 1
    meta[C.M_LAST_ACTOR] = move.player
    child._record(move)
    return child


def final_ranking(state: GameState) -> list[int]:
    """Competition ranks of players 1..N (1 = best; ties share a rank), rules §12.5.

    The winner ranks first; the others by collapsed cells owned, eliminated rings plus
    rings in hand, own markers, then how late they were permanently eliminated.
    """
    n = state.num_players
    owned = collapsed_by_owner(state.board, n)
    markers = markers_by_owner(state.board, n)
    big = 1 << 40

    def key(p: int) -> tuple[int, ...]:
        turn = int(state.players[p, C.ELIM_TURN])
        return (1 if state.winner == p else 0, int(owned[p]),
                int(state.players[p, C.ELIM] + state.players[p, C.HAND]), int(markers[p]),
                big if turn < 0 else turn)

    keys = {p: key(p) for p in range(1, n + 1)}
    return [1 + sum(1 for q in keys if keys[q] > keys[p]) for p in range(1, n + 1)]
