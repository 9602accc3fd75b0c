"""Conversion between the engine's ``GameState`` and the neutral ``WireState``.

``state_from_wire`` builds the arrays from a wire state and re-derives from the
move history what the wire form does not store (wire-format §4.6): whether the
player to move already changed the board this turn, whether the turn contains a
recovery slide, a pending territory self-elimination (the last move is the
player's ``choose_territory_option``), the capture-phase attacker (the ``to`` of the
last move), the pie-rule state and the last actor. Thresholds are taken from the
state when present (rules §3.2-3.3); a missing territory minimum is computed with
the current formula (rules §16 D5, spec wins). ``state_to_wire`` writes canonical
position keys.
"""

from __future__ import annotations

import numpy as np

from ringrift.configs import GameConfig
from ringrift.game import codes as C
from ringrift.game.codec import cell_of, positions
from ringrift.game.errors import WireFormatError
from ringrift.game.geometry import (
    RINGS_PER_PLAYER,
    TOTAL_SPACES,
    build_geometry,
    line_length,
    territory_minimum,
    victory_threshold,
)
from ringrift.game.move import Move, MoveType, Position
from ringrift.game.stacks import colour_on_board, grow_rings, recompute
from ringrift.game.state import GameState
from ringrift.game.wire import RulesOptions, WirePlayer, WireStack, WireState

_NO_CHANGE = frozenset({
    MoveType.NO_PLACEMENT_ACTION, MoveType.NO_MOVEMENT_ACTION, MoveType.NO_LINE_ACTION,
    MoveType.NO_TERRITORY_ACTION, MoveType.SKIP_PLACEMENT, MoveType.SKIP_CAPTURE,
    MoveType.SKIP_RECOVERY, MoveType.SKIP_TERRITORY_PROCESSING,
})
_PHASE_CODE = {name: i for i, name in enumerate(C.PHASE_NAMES)}


def _cell(state: GameState, pos: Position | None, what: str) -> int:
    cell = cell_of(state.geometry, pos)
    if cell < 0:
        raise WireFormatError(f"{what} {pos!r} is not a cell of the board")
    return cell


def state_from_wire(ws: WireState) -> GameState:
    """The engine state of a wire state (see the module docstring)."""
    config = GameConfig(ws.board_type, ws.num_players)
    geo = build_geometry(ws.board_type, ws.size)
    state = GameState(config, geo)
    n = config.num_players
    options = ws.rules_options or RulesOptions()
    rpp = options.rings_per_player or RINGS_PER_PLAYER[ws.board_type]
    for player in ws.players:
        p = player.player_number
        if not 1 <= p <= n:
            raise WireFormatError(f"player number {p} outside 1..{n}")
        state.players[p, C.HAND] = player.rings_in_hand
        state.players[p, C.ELIM] = player.eliminated_rings
        state.players[p, C.BOARD_ELIM] = ws.board_eliminated_rings.get(p, player.eliminated_rings)
        state.players[p, C.TERR] = player.territory_spaces
    tallest = max((s.stack_height for s in ws.stacks.values()), default=0)
    state.rings = grow_rings(state.rings, tallest)
    for key, stack in ws.stacks.items():
        c = _cell(state, stack.position, f"stack {key}")
        for k, colour in enumerate(reversed(stack.rings)):
            state.rings[c, k] = colour
        state.board[c, C.H] = len(stack.rings)
        recompute(state.board, state.rings, c)
    for key, owner in ws.markers.items():
        pos = ws.marker_positions.get(key) or _key_position(key)
        state.board[_cell(state, pos, f"marker {key}"), C.MARK] = owner
    for key, owner in ws.collapsed.items():
        pos = ws.collapsed_positions.get(key) or _key_position(key)
        state.board[_cell(state, pos, f"collapsed cell {key}"), C.COLL] = owner

    meta = state.meta
    terminal = ws.is_terminal
    meta[C.M_PLAYER] = ws.current_player if not terminal or ws.current_player else 1
    meta[C.M_PHASE] = C.PH_GAME_OVER if terminal else _PHASE_CODE[ws.phase]
    meta[C.M_STATUS] = C.ST_COMPLETED if terminal else C.ST_ACTIVE
    meta[C.M_WINNER] = ws.winner or 0
    state.wire_status = ws.status
    if ws.must_move_from_stack_key is not None:
        meta[C.M_MUST_MOVE] = geo.index_of_key(ws.must_move_from_stack_key)
    if ws.chain_capture_position is not None:
        meta[C.M_CHAIN] = _cell(state, ws.chain_capture_position, "chainCapturePosition")
    meta[C.M_PENDING_LINE] = 1 if ws.pending_line_reward_elimination else 0
    meta[C.M_VICTORY_THRESHOLD] = ws.victory_threshold or victory_threshold(rpp, n)
    meta[C.M_TERR_MINIMUM] = (ws.territory_victory_minimum
                              or territory_minimum(TOTAL_SPACES[ws.board_type], n))
    meta[C.M_RINGS_PER_PLAYER] = rpp
    meta[C.M_LINE_LEN] = line_length(ws.board_type, n)
    meta[C.M_LPS_REQUIRED] = options.lps_rounds_required or 3
    meta[C.M_SWAP_ENABLED] = 1 if (options.swap_rule_enabled and n == 2) else 0
    meta[C.M_TOTAL_ELIM] = (ws.total_rings_eliminated if ws.total_rings_eliminated is not None
                            else int(state.players[1:, C.ELIM].sum()))
    state.rules_options = {k: v for k, v in (
        ("swapRuleEnabled", options.swap_rule_enabled), ("ringsPerPlayer",
                                                         options.rings_per_player),
        ("lpsRoundsRequired", options.lps_rounds_required)) if v is not None}
    _derive_from_history(state, ws.move_history)
    _read_lps(state, ws)
    on_board = colour_on_board(state.board, state.rings, n)
    for p in range(1, n + 1):
        if state.players[p, C.HAND] == 0 and on_board[p] == 0:
            state.players[p, C.ELIM_TURN] = 0
    return state


def _key_position(key: str) -> Position:
    from ringrift.game.move import position_from_key
    return position_from_key(key)


def _derive_from_history(state: GameState, history: list[Move]) -> None:
    meta = state.meta
    for move in history:
        state._record(move)
    meta[C.M_MOVE_COUNT] = len(history)
    if history:
        meta[C.M_LAST_ACTOR] = history[-1].player
    meta[C.M_SWAP_USED] = int(any(m.type is MoveType.SWAP_SIDES for m in history))
    meta[C.M_P2_MOVED] = int(any(m.player == 2 and m.type is not MoveType.SWAP_SIDES
                                 for m in history))
    turn: list[Move] = []
    for move in reversed(history):
        if move.player != state.current_player:
            break
        turn.append(move)
    meta[C.M_TURN_CHANGED] = int(any(m.type not in _NO_CHANGE for m in turn))
    meta[C.M_TURN_RECOVERY] = int(any(m.type is MoveType.RECOVERY_SLIDE for m in turn))
    last = history[-1] if history else None
    phase = int(meta[C.M_PHASE])
    if phase == C.PH_CAPTURE and last is not None and last.to is not None:
        meta[C.M_ATTACKER] = cell_of(state.geometry, last.to)
    if (phase == C.PH_LINE and last is not None and last.player == state.current_player
            and _pays_line_reward(last, state.line_length)
            and (state.board[:, C.CTRL] == state.current_player).any()):
        meta[C.M_PENDING_LINE] = 1  # the contract form drops the flag; the history implies it
    if (phase == C.PH_TERRITORY and last is not None and last.player == state.current_player
            and last.type is MoveType.CHOOSE_TERRITORY_OPTION and last.region is not None):
        meta[C.M_PENDING_TERR] = 1
        for pos in last.region.spaces:
            state.pending_region[_cell(state, pos, "region cell")] = True


def _pays_line_reward(move: Move, line_length: int) -> bool:
    """A line decision that collapses the whole line (exact length or Option 1).

    A ``process_line`` on an overlength line collapses nothing (``engine.apply_move``).
    """
    line = move.line
    if move.type is MoveType.PROCESS_LINE:
        return line is None or len(line.positions) <= line_length
    if move.type is not MoveType.CHOOSE_LINE_OPTION:
        return False
    return not move.collapsed_markers or (line is not None
                                          and set(move.collapsed_markers) == set(line.positions))


def _read_lps(state: GameState, ws: WireState) -> None:
    """Adopt a PY-native last-player-standing tracker when the state carries one."""
    lps = ws.lps
    meta = state.meta
    if not lps:
        return
    meta[C.M_LPS_FIRST] = int(lps.get("lpsCurrentRoundFirstPlayer") or 0)
    mask = 0
    for key, had in (lps.get("lpsCurrentRoundActorMask") or {}).items():
        if had:
            mask |= 1 << int(key)
    meta[C.M_LPS_MASK] = mask
    meta[C.M_LPS_CONSEC] = int(lps.get("lpsConsecutiveExclusiveRounds") or 0)
    meta[C.M_LPS_EXCL] = int(lps.get("lpsConsecutiveExclusivePlayer") or 0)
    if lps.get("lpsRoundsRequired"):
        meta[C.M_LPS_REQUIRED] = int(lps["lpsRoundsRequired"])


def state_to_wire(state: GameState) -> WireState:
    """The wire form of an engine state (canonical keys, rings top first)."""
    geo = state.geometry
    pos = positions(geo)
    n = state.num_players
    stacks: dict[str, WireStack] = {}
    markers: dict[str, int] = {}
    collapsed: dict[str, int] = {}
    marker_positions: dict[str, Position] = {}
    collapsed_positions: dict[str, Position] = {}
    board = state.board
    for c in np.flatnonzero(board[:, C.H] > 0):
        rings = tuple(state.stack_rings(int(c)))
        stacks[geo.keys[c]] = WireStack(pos[c], rings, len(rings), int(board[c, C.CAP]),
                                        int(board[c, C.CTRL]))
    for c in np.flatnonzero(board[:, C.MARK] > 0):
        markers[geo.keys[c]] = int(board[c, C.MARK])
        marker_positions[geo.keys[c]] = pos[c]
    for c in np.flatnonzero(board[:, C.COLL] > 0):
        collapsed[geo.keys[c]] = int(board[c, C.COLL])
        collapsed_positions[geo.keys[c]] = pos[c]
    players = [WirePlayer(p, int(state.players[p, C.HAND]), int(state.players[p, C.ELIM]),
                          int(state.players[p, C.TERR])) for p in range(1, n + 1)]
    history = state.history()
    if state.is_terminal:
        status = "completed"
    else:
        status = state.wire_status if state.wire_status in ("waiting", "paused") else "active"
    options = state.rules_options
    meta = state.meta
    chain = state.chain_capture_position
    must = state.must_move_from
    total = TOTAL_SPACES[geo.board_type]
    return WireState(
        board_type=geo.board_type, size=geo.size, players=players,
        current_player=state.current_player, phase=state.phase, status=status,
        stacks=stacks, markers=markers, collapsed=collapsed,
        board_eliminated_rings={p: int(state.players[p, C.BOARD_ELIM])
                                for p in range(1, n + 1)},
        move_history=history,
        chain_capture_position=None if chain is None else pos[chain],
        must_move_from_stack_key=None if must is None else geo.keys[must],
        pending_line_reward_elimination=state.pending_line_reward,
        victory_threshold=int(meta[C.M_VICTORY_THRESHOLD]),
        territory_victory_threshold=total // 2 + 1,
        territory_victory_minimum=int(meta[C.M_TERR_MINIMUM]),
        total_rings_eliminated=state.total_rings_eliminated,
        total_rings_in_play=state.rings_per_player * n,
        winner=state.winner,
        rules_options=RulesOptions(options.get("swapRuleEnabled"), options.get("ringsPerPlayer"),
                                   options.get("lpsRoundsRequired")) if options else None,
        turn_number=len(history) + 1,
        marker_positions=marker_positions, collapsed_positions=collapsed_positions,
    )
