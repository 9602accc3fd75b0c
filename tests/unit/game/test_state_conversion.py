"""GameState <-> WireState: ring order, counters, and what is re-derived from the history
(wire-format §4.6); the ``trust_payload`` apply path used for vectors and foreign records;
one reading of ``process_line`` on an overlength line (refused; trusted, a no-op)."""

from __future__ import annotations

import pytest

from ringrift.game import (
    Cells,
    GameState,
    IllegalMoveError,
    LineInfo,
    Move,
    MoveType,
    apply_move,
    legal_moves,
)
from tests.unit.game.builders import P, make_state, types


def test_round_trip_keeps_ring_order_and_counters() -> None:
    state = make_state(stacks={"3,3": [1, 2, 2, 1], "0,0": [2]}, markers={"5,5": 1},
                       collapsed={"7,7": 2}, hand=[10, 12], eliminated=[2, 1])
    wire = state.to_wire()
    assert wire.stacks["3,3"].rings == (1, 2, 2, 1)
    assert (wire.stacks["3,3"].cap_height, wire.stacks["3,3"].controlling_player) == (1, 1)
    assert wire.board_eliminated_rings == {1: 2, 2: 1}
    again = GameState.from_wire(wire)
    assert (again.board == state.board).all() and (again.players == state.players).all()
    assert again.stack_rings(again.geometry.index_of(3, 3)) == [1, 2, 2, 1]


def test_hex_positions_round_trip() -> None:
    state = make_state(board="hex8", stacks={"-2,1,1": [1, 2]}, markers={"0,-4,4": 2})
    wire = state.to_wire()
    assert set(wire.stacks) == {"-2,1,1"} and set(wire.markers) == {"0,-4,4"}


def test_pending_territory_elimination_comes_from_the_history() -> None:
    region_move = {"id": "t", "type": "choose_territory_option", "player": 1,
                   "to": {"x": 0, "y": 0},
                   "disconnectedRegions": [{"spaces": [{"x": 0, "y": 0}],
                                            "controllingPlayer": 1, "isDisconnected": True}]}
    state = make_state(phase="territory_processing", stacks={"5,5": [1], "6,6": [1, 1]},
                       collapsed={"0,0": 1}, history=[region_move])
    assert state.pending_territory_region is not None
    assert types(state) == {"eliminate_rings_from_stack"}
    assert {m.to for m in legal_moves(state)} == {P("5,5"), P("6,6")}


def test_capture_phase_attacker_comes_from_the_last_move() -> None:
    moved = {"id": "m", "type": "move_stack", "player": 1, "from": {"x": 2, "y": 2},
             "to": {"x": 2, "y": 3}}
    state = make_state(phase="capture", stacks={"2,3": [1], "2,4": [2], "5,4": [1]},
                       history=[moved])
    captures = [m for m in legal_moves(state) if m.type is MoveType.OVERTAKING_CAPTURE]
    assert captures and {m.from_pos for m in captures} == {P("2,3")}


def test_trust_payload_applies_what_the_rules_refuse() -> None:
    # Landing 1 cell beyond the target: distance 2 < height 3, so not a legal segment.
    state = make_state(phase="movement", stacks={"0,0": [1, 1, 1], "0,1": [2], "7,7": [2]})
    short = Move(MoveType.OVERTAKING_CAPTURE, 1, from_pos=P("0,0"), capture_target=P("0,1"),
                 to=P("0,2"))
    with pytest.raises(IllegalMoveError):
        apply_move(state, short)
    after = apply_move(state, short, trust_payload=True)
    assert after.stack_rings(after.geometry.index_of(0, 2)) == [1, 1, 1, 2]
    with pytest.raises(IllegalMoveError):  # still no jumping over nothing
        apply_move(state, Move(MoveType.OVERTAKING_CAPTURE, 1, from_pos=P("0,0"),
                               capture_target=P("3,3"), to=P("4,4")), trust_payload=True)


def test_pending_line_reward_comes_from_the_history() -> None:
    line = [{"x": x, "y": 0} for x in range(4)]
    processed = {"id": "l", "type": "process_line", "player": 1, "to": line[0],
                 "formedLines": [{"positions": line, "player": 1, "length": 4,
                                  "direction": {"x": 1, "y": 0}}]}
    state = make_state(phase="line_processing", stacks={"5,5": [1]},
                       collapsed={f"{x},0": 1 for x in range(4)}, history=[processed])
    assert state.pending_line_reward
    assert types(state) == {"eliminate_rings_from_stack"}


def _overlength_line_state(history: list[dict] | None = None):
    return make_state(phase="line_processing", stacks={"7,7": [1]},
                      markers={f"{x},3": 1 for x in range(6)}, history=history)


def _process_line(formed: bool) -> Move:
    cells = Cells(P(f"{x},3") for x in range(6))
    lines = (LineInfo(cells, 1, 6, P("1,0")),) if formed else ()
    return Move(MoveType.PROCESS_LINE, 1, to=P("0,3"), formed_lines=lines)


@pytest.mark.parametrize("formed", [False, True])
def test_process_line_on_an_overlength_line_is_refused_and_trusted_as_a_no_op(
        formed: bool) -> None:
    # One reading (rules §8.3, §16 D6: the option must be chosen explicitly): the move
    # chooses no option, so it never collapses the line, whether or not it names the cells.
    state = _overlength_line_state()
    move = _process_line(formed)
    with pytest.raises(IllegalMoveError, match="choose_line_option"):
        apply_move(state, move)
    after = apply_move(state, move, trust_payload=True)
    assert (after.board == state.board).all() and after.move_count == state.move_count + 1
    assert after.phase == "line_processing" and not after.pending_line_reward
    assert {m.type for m in legal_moves(after)} == {MoveType.CHOOSE_LINE_OPTION}


def test_an_overlength_process_line_in_the_history_leaves_no_reward_pending() -> None:
    line = [{"x": x, "y": 3} for x in range(6)]
    processed = {"id": "l", "type": "process_line", "player": 1, "to": line[0],
                 "formedLines": [{"positions": line, "player": 1, "length": 6}]}
    state = _overlength_line_state([processed])
    assert not state.pending_line_reward
    assert {m.type for m in legal_moves(state)} == {MoveType.CHOOSE_LINE_OPTION}
