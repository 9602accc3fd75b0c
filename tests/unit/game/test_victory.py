"""Game end (rules §12): ring elimination, stalemate ladder, last-player-standing rounds,
final ranking, resignation, and the pie rule (rules §13)."""

from __future__ import annotations

from ringrift.configs import GameConfig
from ringrift.game import (
    IllegalMoveError,
    Move,
    MoveType,
    apply_move,
    final_ranking,
    initial_state,
    legal_moves,
)
from tests.unit.game.builders import P, make_state, only, types


def _finish_turn(state):
    while not state.is_terminal and types(state) <= {"no_line_action", "no_territory_action",
                                                     "no_placement_action",
                                                     "no_movement_action"}:
        state = apply_move(state, legal_moves(state)[0])
    return state


def test_ring_elimination_victory_at_turn_end() -> None:
    state = make_state(phase="movement", stacks={"0,0": [1], "7,7": [2], "6,6": [1]},
                       markers={"0,1": 2}, eliminated=[17, 0], hand=[0, 0])
    state = apply_move(state, Move(MoveType.MOVE_STACK, 1, from_pos=P("0,0"), to=P("0,1")))
    assert not state.is_terminal  # victory is evaluated at the end of the turn
    state = _finish_turn(state)
    assert state.is_terminal and state.winner == 1
    assert state.victory_reason == "ring_elimination"
    assert legal_moves(state) == []
    try:
        apply_move(state, Move(MoveType.NO_LINE_ACTION, 2))
    except IllegalMoveError as error:
        assert "over" in str(error)
    else:
        raise AssertionError("a move after the end was accepted")


def test_bare_board_stalemate_uses_the_tie_break_ladder() -> None:
    state = make_state(hand=[0, 0], collapsed={"0,0": 1, "1,0": 1, "2,0": 1, "7,7": 2})
    state = _finish_turn(state)
    assert state.is_terminal and state.winner == 1
    assert state.victory_reason == "territory_control"
    assert final_ranking(state) == [1, 2]


def test_stalemate_falls_through_to_markers_then_last_actor() -> None:
    by_markers = _finish_turn(make_state(hand=[0, 0], markers={"3,3": 2}))
    assert (by_markers.winner, by_markers.victory_reason) == (2, "last_player_standing")
    by_actor = _finish_turn(make_state(hand=[0, 0]))
    assert by_actor.winner == 1  # player 1 recorded the last move


def test_ranking_shares_tied_ranks() -> None:
    state = make_state(players=3, hand=[0, 0, 0], collapsed={"0,0": 1})
    state = _finish_turn(state)
    assert state.winner == 1
    assert final_ranking(state) == [1, 2, 2]


def test_round_based_last_player_standing() -> None:
    # Player 2 still has a buried ring (so stays in the game) but never has a real action.
    state = make_state(board="square19", stacks={"9,9": [1, 2]}, hand=[0, 0])
    p1_moves = 0
    for _ in range(200):
        if state.is_terminal:
            break
        legal = legal_moves(state)
        plain = [m for m in legal if m.type is MoveType.MOVE_STACK
                 and int(state.marker_owner[state.geometry.index_of(m.to.x, m.to.y)]) == 0]
        move = plain[0] if plain else legal[0]
        p1_moves += move.type is MoveType.MOVE_STACK
        state = apply_move(state, move)
    assert state.is_terminal and state.winner == 1
    assert state.victory_reason == "last_player_standing"
    assert p1_moves >= 3


def test_resignation_ends_a_two_player_game() -> None:
    state = initial_state(GameConfig("square8", 2))
    after = apply_move(state, Move(MoveType.RESIGN, 1))
    assert after.is_terminal and after.winner == 2 and after.victory_reason == "resignation"


def _p2_first_turn(pie_rule: bool, players: int = 2):
    state = initial_state(GameConfig("square8", players), pie_rule=pie_rule)
    state = apply_move(state, Move(MoveType.PLACE_RING, 1, to=P("3,3")))
    state = apply_move(state, Move(MoveType.MOVE_STACK, 1, from_pos=P("3,3"), to=P("3,4")))
    state = _finish_turn(state)
    assert state.current_player == 2 and state.phase == "ring_placement"
    return state


def test_pie_rule_is_off_by_default() -> None:
    assert "swap_sides" not in types(_p2_first_turn(False))
    assert "swap_sides" not in types(_p2_first_turn(True, players=3))


def test_pie_rule_swap_is_offered_once_and_changes_no_counters() -> None:
    state = _p2_first_turn(True)
    assert "swap_sides" in types(state)
    swapped = apply_move(state, only(state, MoveType.SWAP_SIDES))
    assert swapped.sides_swapped
    assert (swapped.current_player, swapped.phase) == (2, "ring_placement")
    assert (swapped.board == state.board).all()
    assert (swapped.players == state.players).all()
    assert "swap_sides" not in types(swapped)
