"""Forced elimination (rules §10) and recovery (rules §11)."""

from __future__ import annotations

from ringrift.game import MoveType, apply_move, legal_moves
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
    # Striking (4,4) = [2,1,2] would uncover P1's only buried ring, leaving nothing to extract
    # (an extraction never takes a top ring, rules §11.3): no strike is offered there.
    near_stack = _recovery_position({"3,3": 1})
    strikes = [m for m in moves_of(near_stack, MoveType.RECOVERY_SLIDE)
               if m.recovery_mode == "stack_strike"]
    assert strikes == []
    assert {m.recovery_mode for m in moves_of(near_stack, MoveType.RECOVERY_SLIDE)} == {
        "fallback"}


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
