"""Ring placement (rules §5): counts, supply cap, no-dead-placement, skips, bookkeeping."""

from __future__ import annotations

from ringrift.configs import GameConfig
from ringrift.game import IllegalMoveError, Move, MoveType, apply_move, initial_state, legal_moves
from tests.unit.game.builders import P, make_state, only, types


def test_initial_square8_offers_every_cell_with_one_to_three_rings() -> None:
    state = initial_state(GameConfig("square8", 2))
    moves = legal_moves(state)
    assert {m.type for m in moves} == {MoveType.PLACE_RING}
    assert len(moves) == 64 * 3


def test_place_sets_must_move_and_movement_phase() -> None:
    state = initial_state(GameConfig("square8", 2))
    after = apply_move(state, Move(MoveType.PLACE_RING, 1, to=P("3,3"), placement_count=2))
    assert after.phase == "movement"
    assert after.stack_rings(after.geometry.index_of(3, 3)) == [1, 1]
    assert int(after.rings_in_hand[0]) == 16
    assert after.must_move_from == after.geometry.index_of(3, 3)
    assert {m.from_pos for m in legal_moves(after)} == {P("3,3")}
    assert state.phase == "ring_placement"  # the input state is unchanged


def test_no_placement_on_markers_and_one_ring_on_stacks() -> None:
    state = make_state(stacks={"3,3": [2]}, markers={"4,4": 1})
    places = [m for m in legal_moves(state) if m.type is MoveType.PLACE_RING]
    assert all(m.to != P("4,4") for m in places)
    assert {m.placement_count for m in places if m.to == P("3,3")} == {1}


def test_supply_cap_counts_own_rings_on_board() -> None:
    state = make_state(stacks={"0,0": [1] * 17}, hand=[1, 18])
    counts = {m.placement_count for m in legal_moves(state) if m.type is MoveType.PLACE_RING}
    assert counts == {1}
    full = make_state(stacks={"0,0": [1] * 17, "7,7": [2, 1]}, hand=[1, 17])
    assert "place_ring" not in types(full)


def test_no_dead_placement() -> None:
    # (0,0) is walled in by collapsed cells: a ring placed there could never move.
    state = make_state(collapsed={"1,0": 2, "0,1": 2, "1,1": 2}, stacks={"5,5": [1]})
    assert all(m.to != P("0,0") for m in legal_moves(state) if m.type is MoveType.PLACE_RING)


def test_skip_placement_needs_a_movable_stack() -> None:
    assert "skip_placement" in types(make_state(stacks={"3,3": [1]}))
    assert "skip_placement" not in types(make_state())


def test_empty_hand_gives_exactly_no_placement_action() -> None:
    state = make_state(stacks={"3,3": [1]}, hand=[0, 18])
    assert types(state) == {"no_placement_action"}
    after = apply_move(state, only(state, MoveType.NO_PLACEMENT_ACTION))
    assert after.phase == "movement"


def test_illegal_moves_are_refused_with_a_reason() -> None:
    state = initial_state(GameConfig("square8", 2))
    try:
        apply_move(state, Move(MoveType.PLACE_RING, 2, to=P("3,3")))
    except IllegalMoveError as error:
        assert "player 1's turn" in str(error)
    else:
        raise AssertionError("a move by the wrong player was accepted")
    try:
        apply_move(state, Move(MoveType.MOVE_STACK, 1, from_pos=P("3,3"), to=P("3,4")))
    except IllegalMoveError as error:
        assert "ring_placement" in str(error)
    else:
        raise AssertionError("a movement in the placement phase was accepted")
