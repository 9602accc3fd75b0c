"""Lines (rules §8) and territory (rules §9), with the worked examples of the rules document."""

from __future__ import annotations

from ringrift.game import Move, MoveType, apply_move, legal_moves
from tests.unit.game.builders import P, make_state, moves_of, only, types


def _cell(state, key):
    return state.geometry.index_of(*[int(v) for v in key.split(",")])


def test_exact_line_reward_and_bookkeeping() -> None:
    # Rules §4.7, "An exact-length line".
    state = make_state(phase="movement", stacks={"3,0": [1], "7,7": [1, 1], "6,6": [2]},
                       markers={"0,0": 1, "1,0": 1, "2,0": 1}, hand=[15, 17])
    state = apply_move(state, Move(MoveType.MOVE_STACK, 1, from_pos=P("3,0"), to=P("3,1")))
    assert state.phase == "line_processing"
    state = apply_move(state, only(state, MoveType.PROCESS_LINE))
    assert state.pending_line_reward
    assert int(state.territory_spaces[0]) == 4
    assert {m.type for m in legal_moves(state)} == {MoveType.ELIMINATE_RINGS_FROM_STACK}
    assert {m.elimination_context for m in legal_moves(state)} == {"line"}
    state = apply_move(state, Move(MoveType.ELIMINATE_RINGS_FROM_STACK, 1, to=P("3,1")))
    assert int(state.eliminated_rings[0]) == 1 and not state.pending_line_reward
    assert state.phase == "line_processing" and types(state) == {"no_line_action"}
    state = apply_move(state, only(state, MoveType.NO_LINE_ACTION))
    assert state.phase == "territory_processing" and types(state) == {"no_territory_action"}
    state = apply_move(state, only(state, MoveType.NO_TERRITORY_ACTION))
    assert (state.current_player, state.phase) == (2, "ring_placement")


def test_overlength_line_options() -> None:
    # Rules §8.3 example: five markers, L = 4: collapse all, or either block of four.
    state = make_state(phase="line_processing", stacks={"7,7": [1]},
                       markers={f"{x},0": 1 for x in range(5)})
    options = moves_of(state, MoveType.CHOOSE_LINE_OPTION)
    assert len(options) == 3
    assert not moves_of(state, MoveType.PROCESS_LINE)
    block = next(m for m in options if len(m.collapsed_markers) == 4
                 and P("0,0") in m.collapsed_markers)
    after = apply_move(state, block)
    assert not after.pending_line_reward  # Option 2 is free
    assert int(after.marker_owner[_cell(after, "4,0")]) == 1


def test_line_reward_waived_without_stacks() -> None:
    state = make_state(phase="line_processing", markers={f"{x},0": 1 for x in range(4)},
                       stacks={"7,7": [2]}, hand=[5, 5])
    after = apply_move(state, only(state, MoveType.PROCESS_LINE))
    assert not after.pending_line_reward


def test_pocket_region_with_engine_border_rule() -> None:
    # Rules §9.6 "Pocket with a corner marker": the engines collapse four border markers.
    state = make_state(phase="territory_processing",
                       stacks={"0,0": [2], "5,5": [1, 1], "6,6": [1]},
                       markers={"1,0": 1, "0,1": 1, "1,1": 1, "2,2": 2},
                       history=[{"id": "m", "type": "move_stack", "player": 1,
                                 "from": {"x": 4, "y": 4}, "to": {"x": 5, "y": 5}}])
    regions = moves_of(state, MoveType.CHOOSE_TERRITORY_OPTION)
    assert [set(m.region.spaces) for m in regions] == [{P("0,0")}]
    assert "skip_territory_processing" in types(state)
    after = apply_move(state, regions[0])
    assert int(after.territory_spaces[0]) == 5
    assert int(after.eliminated_rings[0]) == 1
    targets = {m.to for m in legal_moves(after)}
    assert targets == {P("5,5"), P("6,6")}
    done = apply_move(after, Move(MoveType.ELIMINATE_RINGS_FROM_STACK, 1, to=P("5,5")))
    assert int(done.eliminated_rings[0]) == 3
    assert (done.current_player, done.phase) == (2, "ring_placement")


def test_empty_collapse_bounded_pocket_without_markers_is_a_region() -> None:
    # Rules §16 D17 (spec wins over the reference engines): no marker on the board, the
    # empty corner (0,0) is enclosed by collapsed (1,0), (0,1) and the edges; its
    # controllers (none) are a strict subset of {1, 2}, and P1 has (7,7) outside it.
    state = make_state(phase="territory_processing", stacks={"7,7": [1, 1], "5,5": [2]},
                       collapsed={"1,0": 1, "0,1": 1},
                       history=[{"id": "m", "type": "move_stack", "player": 1,
                                 "from": {"x": 7, "y": 4}, "to": {"x": 7, "y": 7}}])
    region = only(state, MoveType.CHOOSE_TERRITORY_OPTION)
    assert set(region.region.spaces) == {P("0,0")}
    assert "skip_territory_processing" in types(state)
    after = apply_move(state, region)
    assert int(after.territory_spaces[0]) == 3
    assert {m.to for m in legal_moves(after)} == {P("7,7")}
    # A stack-free board still has no regions (rules §9.1).
    bare = make_state(phase="territory_processing", collapsed={"1,0": 1, "0,1": 1})
    assert types(bare) == {"no_territory_action"}


def test_claiming_the_outside_wins_by_territory() -> None:
    # Rules §9.6 "Claiming the outside".
    state = make_state(stacks={"0,0": [1, 1], "5,5": [2]},
                       collapsed={"1,0": 2, "0,1": 2, "1,1": 2}, hand=[0, 10])
    for kind in (MoveType.NO_PLACEMENT_ACTION, MoveType.NO_MOVEMENT_ACTION,
                 MoveType.NO_LINE_ACTION):
        state = apply_move(state, only(state, kind))
    assert state.phase == "territory_processing"
    region = only(state, MoveType.CHOOSE_TERRITORY_OPTION)
    assert len(region.region.spaces) == 60
    state = apply_move(state, region)
    state = apply_move(state, only(state, MoveType.ELIMINATE_RINGS_FROM_STACK))
    assert state.is_terminal and state.winner == 1
    assert state.victory_reason == "territory_control"


def test_adjacent_border_option_collapses_only_adjacent_markers() -> None:
    from ringrift.configs import GameConfig
    from ringrift.game import codes as C
    from ringrift.game import initial_state

    engine_rule = make_state(phase="territory_processing",
                             stacks={"0,0": [2], "5,5": [1, 1], "6,6": [1]},
                             markers={"1,0": 1, "0,1": 1, "1,1": 1, "2,2": 2},
                             history=[{"id": "m", "type": "move_stack", "player": 1,
                                       "from": {"x": 4, "y": 4}, "to": {"x": 5, "y": 5}}])
    spec_rule = engine_rule.copy()
    spec_rule.meta[C.M_GROW_BORDER] = 0
    assert initial_state(GameConfig("square8", 2), adjacent_border_only=True).meta[
        C.M_GROW_BORDER] == 0
    region = only(spec_rule, MoveType.CHOOSE_TERRITORY_OPTION)
    after = apply_move(spec_rule, region)
    assert int(after.territory_spaces[0]) == 3  # (0,0), (1,0), (0,1)
    assert int(after.marker_owner[_cell(after, "1,1")]) == 1
