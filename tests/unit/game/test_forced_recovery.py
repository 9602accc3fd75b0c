"""Forced elimination (rules §10) and recovery (rules §11).

Checks: the blocked-player example; voluntary skips do not protect from forced
elimination; line, fallback and stack-strike recovery, including a strike whose
extraction stack is the struck stack (extract first, then strike: issue 13), in 2- and
3-player games, read as another engine or a GameRecord writes it, strict and trusted,
and with the recovery kernels compiled and as plain Python.
"""

from __future__ import annotations

import pytest

from ringrift.game import MoveType, apply_move, fingerprint, legal_moves, recovery
from ringrift.game import codes as C
from ringrift.game.moves_buffer import new_buffer
from ringrift.game.wire_move import move_from_json
from tests.unit.game.builders import P, make_state, moves_of, only, types


def _cell(state, key):
    return state.geometry.index_of(*[int(v) for v in key.split(",")])


def test_blocked_player_is_forced_to_eliminate_and_loses() -> None:
    # Rules §4.7 "A blocked player".
    state = make_state(stacks={"0,0": [1, 1], "1,0": [2, 2, 2], "0,1": [2, 2, 2],
                               "1,1": [2, 2, 2]}, hand=[0, 10])
    for kind in (MoveType.NO_PLACEMENT_ACTION, MoveType.NO_MOVEMENT_ACTION,
                 MoveType.NO_LINE_ACTION):
        state = apply_move(state, only(state, kind))
    assert state.phase == "forced_elimination"
    state = apply_move(state, only(state, MoveType.FORCED_ELIMINATION))
    assert int(state.eliminated_rings[0]) == 2
    assert state.is_terminal and state.winner == 2
    assert state.victory_reason == "last_player_standing"
    assert state.phase == "game_over"


def test_voluntary_skips_do_not_protect_from_forced_elimination() -> None:
    state = make_state(stacks={"0,0": [1, 1], "1,0": [2, 2, 2], "0,1": [2, 2, 2],
                               "1,1": [2, 2, 2], "5,5": [2]}, hand=[0, 10],
                       markers={"7,7": 1})
    for kind in (MoveType.NO_PLACEMENT_ACTION, MoveType.NO_MOVEMENT_ACTION,
                 MoveType.NO_LINE_ACTION):
        state = apply_move(state, only(state, kind))
    assert state.phase == "forced_elimination"


def _recovery_position(markers: dict[str, int]):
    # P1 controls nothing, has a buried ring in (4,4) and markers; P2 can move.
    return make_state(phase="movement", players=3, stacks={"4,4": [2, 1, 2], "7,7": [3]},
                      markers=markers, hand=[0, 5, 5])


def test_recovery_line_slide_collapses_and_extracts() -> None:
    state = _recovery_position({"0,0": 1, "1,0": 1, "3,1": 1})  # L = 3 on square8 3p
    slides = moves_of(state, MoveType.RECOVERY_SLIDE)
    assert "skip_recovery" in types(state)
    line = [m for m in slides if m.recovery_mode == "line"]
    assert [(m.from_pos, m.to) for m in line] == [(P("3,1"), P("2,0"))]
    after = apply_move(state, line[0])
    assert all(int(after.collapsed_owner[_cell(after, f"{x},0")]) == 1 for x in range(3))
    assert after.stack_rings(_cell(after, "4,4")) == [2, 2]
    assert int(after.eliminated_rings[0]) == 1
    assert after.phase == "line_processing" and after.turn_has_recovery


def test_recovery_fallback_only_without_line_slides() -> None:
    state = _recovery_position({"0,0": 1})
    modes = {m.recovery_mode for m in moves_of(state, MoveType.RECOVERY_SLIDE)}
    assert modes == {"fallback"}
    # Striking (4,4) = [2,1,2]: P1's ring under the top is extracted first, then the top
    # ring goes (rules §11.3, R113), leaving [2].
    near_stack = _recovery_position({"3,3": 1})
    strikes = [m for m in moves_of(near_stack, MoveType.RECOVERY_SLIDE)
               if m.recovery_mode == "stack_strike"]
    assert [(m.to, m.extraction_stacks) for m in strikes] == [(P("4,4"), ("4,4",))]
    after = apply_move(near_stack, strikes[0])
    assert after.stack_rings(_cell(after, "4,4")) == [2]
    assert int(after.eliminated_rings[0]) == 2


def test_stack_strike_eliminates_top_ring_and_extracts() -> None:
    state = make_state(phase="movement", players=3, stacks={"4,4": [2, 2, 1, 2], "7,7": [3]},
                       markers={"3,3": 1}, hand=[0, 5, 5])
    strike = next(m for m in moves_of(state, MoveType.RECOVERY_SLIDE)
                  if m.recovery_mode == "stack_strike")
    after = apply_move(state, strike)
    assert after.stack_rings(_cell(after, "4,4")) == [2, 2]
    assert int(after.marker_owner[_cell(after, "3,3")]) == 0
    assert int(after.eliminated_rings[0]) == 2


def test_skip_placement_reaches_recovery_with_rings_in_hand() -> None:
    state = make_state(players=3, stacks={"4,4": [2, 1, 2], "7,7": [3]},
                       markers={"0,0": 1, "1,0": 1, "3,1": 1}, hand=[2, 5, 5])
    assert "skip_placement" in types(state)
    after = apply_move(state, only(state, MoveType.SKIP_PLACEMENT))
    assert "recovery_slide" in types(after)
    assert legal_moves(after)


def _strike_position(players: int, on_top: int):
    # P1 controls no stack; its only buried ring is under ``on_top``'s ring at (4,4), next to
    # its one marker (no line recovery exists); the other players keep a stack each.
    others = {"7,7": [2]} if players == 2 else {"7,7": [2], "0,7": [3]}
    return make_state(phase="movement", players=players, stacks={"4,4": [on_top, 1], **others},
                      markers={"3,3": 1}, hand=[0] + [5] * (players - 1))


@pytest.mark.parametrize(("players", "on_top"), [(2, 2), (3, 3), (3, 2)])
def test_stack_strike_can_extract_from_the_struck_two_ring_stack(players: int,
                                                                 on_top: int) -> None:
    # Issue 13 item 5: both reference engines list this strike and apply it as "extract P1's
    # ring, strike the top one, the emptied stack disappears" (R113, R115).
    state = _strike_position(players, on_top)
    strike = only_strike(state)
    assert (strike.from_pos, strike.to, strike.extraction_stacks) == (P("3,3"), P("4,4"),
                                                                      ("4,4",))
    after = apply_move(state, strike)
    cell = _cell(after, "4,4")
    assert after.stack_rings(cell) == [] and int(after.stack_controller[cell]) == 0
    assert int(after.marker_owner[_cell(after, "3,3")]) == 0
    assert int(after.eliminated_rings[0]) == 2 and after.total_rings_eliminated == 2
    assert after.to_wire().board_eliminated_rings[1] == 2
    assert after.phase == "line_processing" and after.turn_has_recovery

    # The same move as another engine writes it, strict and trusted, and as a GameRecord
    # MoveRecord (no recovery fields, wire-format §6.2) all give that state.
    wire = {"type": "recovery_slide", "player": 1, "from": {"x": 3, "y": 3},
            "to": {"x": 4, "y": 4}, "recoveryMode": "stack_strike", "extractionStacks": ["4,4"]}
    record_move = {"type": "recovery_slide", "player": 1, "from": {"x": 3, "y": 3},
                   "to": {"x": 4, "y": 4}, "moveNumber": 1, "thinkTimeMs": 0}
    expected = fingerprint(after)
    for raw in (wire, record_move):
        assert fingerprint(apply_move(state, move_from_json(raw))) == expected
        assert fingerprint(apply_move(state, move_from_json(raw), trust_payload=True)) == expected


def test_stack_strike_kernels_agree_with_their_python_source() -> None:
    # The compiled recovery kernels and the same source run as plain Python list and apply
    # the struck-stack extraction alike.
    state = _strike_position(3, 3)
    geo = state.geometry
    player = 1
    compiled = recovery.gen_recovery(state.board, state.rings, geo.rays, geo.ray_len,
                                     geo.line_dirs, geo.opposite, geo.step_nbrs, player,
                                     state.line_length, new_buffer(64), 0)
    interpreted = recovery.gen_recovery.py_func(state.board, state.rings, geo.rays, geo.ray_len,
                                                geo.line_dirs, geo.opposite, geo.step_nbrs,
                                                player, state.line_length, new_buffer(64), 0)
    rows = compiled[0][:compiled[1]]
    assert (rows == interpreted[0][:interpreted[1]]).all()
    strike = next(r for r in rows if r[3] == C.RM_STRIKE)
    results = []
    for kernel in (recovery.apply_recovery, recovery.apply_recovery.py_func):
        child = state.copy()
        kernel(child.board, child.rings, child.players, child.meta, geo.rays, geo.ray_len,
               geo.line_dirs, geo.opposite, player, *[int(v) for v in strike[1:6]],
               state.line_length)
        results.append((child.board.copy(), child.players.copy(), int(child.meta[C.M_TOTAL_ELIM])))
    assert all((a == b).all() for a, b in zip(results[0][:2], results[1][:2], strict=True))
    assert results[0][2] == results[1][2] == 2
    assert int(results[0][0][_cell(state, "4,4"), C.H]) == 0


def only_strike(state):
    strikes = [m for m in moves_of(state, MoveType.RECOVERY_SLIDE)
               if m.recovery_mode == "stack_strike"]
    assert len(strikes) == 1, [m.describe() for m in strikes]
    return strikes[0]
