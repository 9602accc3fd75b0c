"""Movement and capture (rules §6, §7): marker effects, landing costs, capture phase, chains."""

from __future__ import annotations

from ringrift.game import Move, MoveType, apply_move, legal_moves
from tests.unit.game.builders import P, make_state, moves_of, only, types


def _cell(state, key):
    return state.geometry.index_of(*[int(v) for v in key.split(",")])


def test_move_flips_opponent_markers_and_collapses_own() -> None:
    # Rules §6.2 example: [1,1] at (2,2), P2 marker (3,2), P1 marker (4,2), move to (5,2).
    state = make_state(phase="movement", stacks={"2,2": [1, 1], "7,7": [2]},
                       markers={"3,2": 2, "4,2": 1})
    before = state.progress()
    after = apply_move(state, Move(MoveType.MOVE_STACK, 1, from_pos=P("2,2"), to=P("5,2")))
    assert int(after.marker_owner[_cell(after, "2,2")]) == 1
    assert int(after.marker_owner[_cell(after, "3,2")]) == 1
    assert int(after.collapsed_owner[_cell(after, "4,2")]) == 1
    assert int(after.territory_spaces[0]) == 1
    assert after.stack_rings(_cell(after, "5,2")) == [1, 1]
    assert after.progress() == before + 1


def test_landing_on_a_marker_costs_the_top_ring() -> None:
    state = make_state(phase="movement", stacks={"2,2": [1, 1], "7,7": [2]}, markers={"4,2": 2})
    after = apply_move(state, Move(MoveType.MOVE_STACK, 1, from_pos=P("2,2"), to=P("4,2")))
    assert after.stack_rings(_cell(after, "4,2")) == [1]
    assert int(after.marker_owner[_cell(after, "4,2")]) == 0
    assert int(after.eliminated_rings[0]) == 1


def test_minimum_distance_is_the_stack_height() -> None:
    state = make_state(phase="movement", stacks={"0,0": [1, 1, 1], "7,7": [2]})
    distances = {max(m.to.x, m.to.y) for m in moves_of(state, MoveType.MOVE_STACK)}
    assert min(distances) == 3


def test_capture_phase_after_a_move_offers_only_the_moved_stack() -> None:
    # Rules §4.7 second example.
    state = make_state(phase="movement", stacks={"2,2": [1], "2,4": [2], "7,7": [2], "0,7": [1]})
    after = apply_move(state, Move(MoveType.MOVE_STACK, 1, from_pos=P("2,2"), to=P("2,3")))
    assert after.phase == "capture"
    captures = moves_of(after, MoveType.OVERTAKING_CAPTURE)
    assert captures and {m.from_pos for m in captures} == {P("2,3")}
    assert "skip_capture" in types(after)
    skipped = apply_move(after, only(after, MoveType.SKIP_CAPTURE))
    assert skipped.phase == "line_processing"
    assert types(skipped) == {"no_line_action"}


def test_chain_capture_example_has_seven_continuations() -> None:
    # Rules §7.4 (vector chain_capture.depth2.segment1.square19).
    state = make_state(board="square19", phase="movement", stacks={"3,3": [1, 1], "7,3": [2, 2]})
    after = apply_move(state, Move(MoveType.OVERTAKING_CAPTURE, 1, from_pos=P("3,3"),
                                   capture_target=P("7,3"), to=P("11,3")))
    assert after.stack_rings(_cell(after, "11,3")) == [1, 1, 2]
    assert after.stack_rings(_cell(after, "7,3")) == [2]
    assert after.phase == "chain_capture"
    continuations = legal_moves(after)
    assert {m.type for m in continuations} == {MoveType.CONTINUE_CAPTURE_SEGMENT}
    assert sorted(m.to.x for m in continuations) == [0, 1, 2, 3, 4, 5, 6]


def test_cap_height_limits_the_target() -> None:
    state = make_state(phase="movement", stacks={"0,0": [1], "0,2": [2, 2], "7,7": [2]})
    assert not moves_of(state, MoveType.OVERTAKING_CAPTURE)
    taller = make_state(phase="movement", stacks={"0,0": [1, 1], "0,2": [2, 2], "7,7": [2]})
    assert moves_of(taller, MoveType.OVERTAKING_CAPTURE)


def test_no_movement_action_when_blocked() -> None:
    state = make_state(phase="movement", stacks={"0,0": [1, 1], "1,0": [2, 2, 2],
                                                  "0,1": [2, 2, 2], "1,1": [2, 2, 2]},
                       hand=[0, 10])
    assert types(state) == {"no_movement_action"}
