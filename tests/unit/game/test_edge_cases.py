"""Edge cases: seat rotation past eliminated players, chain reversal, chains ended by a
change of control, hex lines with L = 3 (rules §16 D4), recovery-context territory."""

from __future__ import annotations

from ringrift.game import Move, MoveType, apply_move, legal_moves
from tests.unit.game.builders import P, make_state, moves_of, only, types


def _cell(state, key):
    return state.geometry.index_of(*[int(v) for v in key.split(",")])


def test_rotation_skips_a_permanently_eliminated_seat() -> None:
    state = make_state(players=3, phase="territory_processing",
                       stacks={"0,0": [1], "7,7": [3]}, hand=[5, 0, 5],
                       history=[{"id": "m", "type": "move_stack", "player": 1,
                                 "from": {"x": 0, "y": 1}, "to": {"x": 0, "y": 0}}])
    after = apply_move(state, only(state, MoveType.NO_TERRITORY_ACTION))
    assert (after.current_player, after.phase) == (3, "ring_placement")


def test_a_seat_with_only_buried_rings_still_takes_turns() -> None:
    state = make_state(players=3, phase="territory_processing",
                       stacks={"0,0": [1, 2], "7,7": [3]}, hand=[5, 0, 5],
                       history=[{"id": "m", "type": "move_stack", "player": 1,
                                 "from": {"x": 0, "y": 1}, "to": {"x": 0, "y": 0}}])
    after = apply_move(state, only(state, MoveType.NO_TERRITORY_ACTION))
    assert after.current_player == 2
    assert types(after) == {"no_placement_action"}


def test_chain_can_reverse_and_jump_the_same_stack_again() -> None:
    state = make_state(board="square19", phase="chain_capture", stacks={
        "11,3": [1, 1, 2], "7,3": [2]}, markers={"3,3": 1},
        chainCapturePosition={"x": 11, "y": 3})
    back = [m for m in legal_moves(state) if m.capture_target == P("7,3")]
    assert {m.to.x for m in back} == {0, 1, 2, 3, 4, 5, 6}
    landed = apply_move(state, next(m for m in back if m.to == P("3,3")))
    # Landing on its own marker costs the attacker its top ring (rules §7.2 step 5).
    assert landed.stack_rings(_cell(landed, "3,3")) == [1, 2, 2]
    assert int(landed.eliminated_rings[0]) == 1


def test_chain_ends_when_landing_hands_control_away() -> None:
    state = make_state(phase="movement", stacks={"0,0": [1], "0,1": [2], "7,7": [2]},
                       markers={"0,2": 2})
    capture = next(m for m in moves_of(state, MoveType.OVERTAKING_CAPTURE)
                   if m.to == P("0,2"))
    after = apply_move(state, capture)
    # [1] + captured 2 at the bottom = [1, 2]; landing on a marker removes the 1: P2 controls.
    assert after.stack_rings(_cell(after, "0,2")) == [2]
    assert after.phase == "line_processing"


def test_hex8_three_players_use_lines_of_three() -> None:
    state = make_state(board="hex8", players=3, phase="line_processing",
                       stacks={"3,-3,0": [1]},
                       markers={"0,0,0": 1, "1,0,-1": 1, "2,0,-2": 1})
    line = only(state, MoveType.PROCESS_LINE)
    assert set(line.line.positions) == {P("0,0,0"), P("1,0,-1"), P("2,0,-2")}
    two_player = make_state(board="hex8", players=2, phase="line_processing",
                            stacks={"3,-3,0": [1]},
                            markers={"0,0,0": 1, "1,0,-1": 1, "2,0,-2": 1})
    assert types(two_player) == {"no_line_action"}


def test_recovery_turn_pays_territory_with_a_buried_ring() -> None:
    recovery = {"id": "r", "type": "recovery_slide", "player": 1, "from": {"x": 4, "y": 1},
                "to": {"x": 4, "y": 0}, "recoveryMode": "fallback",
                "extractionStacks": ["6,6"]}
    state = make_state(phase="territory_processing",
                       stacks={"0,0": [2], "6,6": [2, 1, 1, 2], "5,5": [2]},
                       markers={"1,0": 1, "0,1": 1, "1,1": 1}, hand=[0, 5],
                       history=[recovery])
    assert state.turn_has_recovery
    region = next(m for m in moves_of(state, MoveType.CHOOSE_TERRITORY_OPTION)
                  if set(m.region.spaces) == {P("0,0")})
    after = apply_move(state, region)
    payments = legal_moves(after)
    assert {m.to for m in payments} == {P("6,6")}
    assert {m.elimination_context for m in payments} == {"recovery"}
    paid = apply_move(after, Move(MoveType.ELIMINATE_RINGS_FROM_STACK, 1, to=P("6,6")))
    assert paid.stack_rings(_cell(paid, "6,6")) == [2, 1, 2]
