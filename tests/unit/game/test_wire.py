"""Game-state and move JSON: reading, writing, tolerances and precise errors (wire-format §1-5).

Checks: contract-form round trip (write -> read gives the same state); ring order
top first, PY-native dumps read bottom first (auto-detected or forced) and a
helpful error when the stored stack fields match the other order; TS reader
tolerances (rings as an object or missing, missing positions, top-level
``boardType``, ``finished``); hex two-component keys kept verbatim; off-board
cells, key/position mismatches, overlapping cells and malformed JSON rejected with
the path of the bad field; move parsing: legacy names, ``option`` for
``recoveryOption``, sentinel ``to``, equality ignoring bookkeeping fields,
set-like geometry payloads, required fields per type.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ringrift.game.errors import WireFormatError
from ringrift.game.move import Cells, Move, MoveType, Position, Territory, position_from_key
from ringrift.game.wire import loads_state, on_board, state_from_json, state_to_json
from ringrift.game.wire_move import move_from_json, move_to_json


def contract_state() -> dict[str, Any]:
    return {
        "gameId": "g1",
        "board": {
            "type": "square8", "size": 8,
            "stacks": {"3,3": {"position": {"x": 3, "y": 3}, "rings": [1, 1, 2],
                               "stackHeight": 3, "capHeight": 2, "controllingPlayer": 1}},
            "markers": {"4,4": {"position": {"x": 4, "y": 4}, "player": 2, "type": "regular"}},
            "collapsedSpaces": {"0,0": 1},
            "eliminatedRings": {"1": 1, "2": 0},
        },
        "players": [
            {"playerNumber": 1, "ringsInHand": 15, "eliminatedRings": 1, "territorySpaces": 1,
             "isActive": True},
            {"playerNumber": 2, "ringsInHand": 17, "eliminatedRings": 0, "territorySpaces": 0,
             "isActive": True},
        ],
        "currentPlayer": 1, "currentPhase": "movement", "mustMoveFromStackKey": "3,3",
        "turnNumber": 2, "moveHistory": [
            {"id": "m1", "type": "place_ring", "player": 1, "to": {"x": 3, "y": 3},
             "placementCount": 2, "timestamp": "2025-12-01T00:00:00.000Z", "thinkTime": 0,
             "moveNumber": 1}],
        "gameStatus": "active", "victoryThreshold": 18, "territoryVictoryThreshold": 33,
        "totalRingsEliminated": 1,
    }


def test_contract_state_reads_and_round_trips() -> None:
    state = state_from_json(contract_state())
    assert state.stacks["3,3"].rings == (1, 1, 2)
    assert state.stacks["3,3"].cap_height == 2
    assert state.markers == {"4,4": 2}
    assert state.collapsed == {"0,0": 1}
    assert state.board_eliminated_rings == {1: 1, 2: 0}
    assert state.must_move_from_stack_key == "3,3"
    assert state.move_history[0].placement_count == 2
    again = state_from_json(state_to_json(state))
    assert again == state
    # The host form has no turnNumber (wire-format §4.2); the reader derives it.
    assert state_from_json(state_to_json(state, "host")) == state


def test_py_native_dump_is_read_bottom_first() -> None:
    raw = contract_state()
    raw["board"]["stacks"]["3,3"]["rings"] = [2, 1, 1]
    raw["zobristHash"] = 12345
    assert state_from_json(raw).stacks["3,3"].rings == (1, 1, 2)
    del raw["zobristHash"]
    assert state_from_json(raw, ring_order="bottom_first").stacks["3,3"].rings == (1, 1, 2)


def test_wrong_ring_order_names_the_fix() -> None:
    raw = contract_state()
    raw["board"]["stacks"]["3,3"]["rings"] = [2, 1, 1]
    with pytest.raises(WireFormatError) as info:
        state_from_json(raw)
    assert info.value.path == 'state.board.stacks["3,3"]'
    assert "bottom_first" in str(info.value)


def test_ts_reader_tolerances() -> None:
    raw = contract_state()
    stack = raw["board"]["stacks"]["3,3"]
    stack["rings"] = {"1": 1, "0": 1, "2": 2}
    del stack["position"]
    del raw["board"]["markers"]["4,4"]["position"]
    raw["boardType"] = raw["board"].pop("type")
    raw["gameStatus"] = "finished"
    state = state_from_json(raw)
    assert state.stacks["3,3"].rings == (1, 1, 2)
    assert state.marker_positions["4,4"] == Position(4, 4)
    assert state.board_type == "square8"
    assert state.status == "completed"
    del stack["rings"]
    stack.update(stackHeight=2, capHeight=2, controllingPlayer=2)
    assert state_from_json(raw).stacks["3,3"].rings == (2, 2)


def test_hex_two_component_keys_are_kept_verbatim() -> None:
    raw = contract_state()
    raw["board"].update(type="hex8", size=9, markers={}, collapsedSpaces={"2,-1": 1},
                        stacks={"3,-1": {"position": {"x": 3, "y": -1}, "rings": [1],
                                         "stackHeight": 1, "capHeight": 1,
                                         "controllingPlayer": 1}})
    raw["mustMoveFromStackKey"] = None
    state = state_from_json(raw)
    assert set(state.stacks) == {"3,-1"}
    assert state_to_json(state)["board"]["stacks"]["3,-1"]["position"] == {"x": 3, "y": -1}


@pytest.mark.parametrize(("mutate", "path", "words"), [
    (lambda s: s["board"]["stacks"]["3,3"]["position"].update(x=9), 'state.board.stacks["3,3"]',
     "does not match"),
    (lambda s: s["board"]["collapsedSpaces"].update({"8,0": 1}),
     'state.board.collapsedSpaces["8,0"]', "off the square8 board"),
    (lambda s: s["board"]["markers"].update(
        {"3,3": {"position": {"x": 3, "y": 3}, "player": 1}}), 'state.board.markers["3,3"]',
     "both a stack and a marker"),
    (lambda s: s["players"][1].update(ringsInHand="lots"), "state.players[1].ringsInHand",
     "expected an integer"),
    (lambda s: s.update(currentPhase="dancing"), "state.currentPhase", "unknown value"),
    (lambda s: s.update(currentPlayer=3), "state.currentPlayer", "not one of the players"),
    (lambda s: s["board"].update(type="octagon"), "state.board.type", "unknown value"),
    (lambda s: s["moveHistory"][0].update(type="teleport"), "state.moveHistory[0].type",
     "unknown move type"),
    (lambda s: s["board"]["stacks"]["3,3"].update(rings=[]), 'state.board.stacks["3,3"].rings',
     "at least one ring"),
])
def test_malformed_state_errors_name_the_field(mutate: Any, path: str, words: str) -> None:
    raw = copy.deepcopy(contract_state())
    mutate(raw)
    with pytest.raises(WireFormatError) as info:
        state_from_json(raw)
    assert info.value.path == path
    assert words in str(info.value)


def test_malformed_json_text() -> None:
    with pytest.raises(WireFormatError, match="malformed JSON.*line 1 column"):
        loads_state('{"board": ')


def test_move_equality_ignores_bookkeeping_fields() -> None:
    a = move_from_json({"id": "a", "type": "move_ring", "player": 1, "from": {"x": 1, "y": 1},
                        "to": {"x": 1, "y": 3}, "timestamp": "t", "thinkTime": 5, "moveNumber": 9})
    b = Move(MoveType.MOVE_STACK, 1, to=Position(1, 3), from_pos=Position(1, 1))
    assert a == b and hash(a) == hash(b)
    assert a != Move(MoveType.MOVE_STACK, 2, to=Position(1, 3), from_pos=Position(1, 1))


def test_sentinel_to_and_null_to_are_the_same_bookkeeping_move() -> None:
    a = move_from_json({"type": "no_line_action", "player": 2, "to": {"x": 0, "y": 0, "z": None}})
    b = move_from_json({"type": "no_line_action", "player": 2, "to": None})
    assert a == b and a.to is None
    assert move_to_json(b)["to"] == {"x": 0, "y": 0}  # the sentinel is written for both
    assert move_to_json(a)["to"] == {"x": 0, "y": 0, "z": None}  # a read one as it came


def test_region_and_line_payloads_compare_as_sets() -> None:
    cells = [{"x": 0, "y": 0}, {"x": 0, "y": 1}]
    a = move_from_json({"type": "choose_territory_option", "player": 1, "to": {"x": 0, "y": 0},
                        "disconnectedRegions": [{"spaces": cells, "controllingPlayer": 1}]})
    b = Move(MoveType.CHOOSE_TERRITORY_OPTION, 1, to=Position(0, 0), disconnected_regions=(
        Territory(Cells((Position(0, 1), Position(0, 0))), controlling_player=2),))
    assert a == b and hash(a) == hash(b)


def test_recovery_fields_accept_every_spelling_and_write_the_canonical_one() -> None:
    move = move_from_json({"type": "recovery_slide", "player": 1, "from": {"x": 3, "y": 1},
                           "to": {"x": 3, "y": 0}, "recoveryMode": "line", "option": 2,
                           "collapse_positions": [{"x": 1, "y": 0}, {"x": 2, "y": 0}],
                           "extraction_stacks": []})
    assert move.recovery_option == 2 and len(move.collapse_positions) == 2
    written = move_to_json(move)
    assert written["recoveryOption"] == 2 and "option" not in written
    assert move_from_json(written) == move


@pytest.mark.parametrize(("raw", "path"), [
    ({"type": "move_stack", "player": 1, "to": {"x": 1, "y": 1}}, "move.from"),
    ({"type": "overtaking_capture", "player": 1, "from": {"x": 1, "y": 1},
      "to": {"x": 1, "y": 3}}, "move.captureTarget"),
    ({"type": "place_ring", "player": 0, "to": {"x": 1, "y": 1}}, "move.player"),
    ({"type": "place_ring", "player": 1, "to": {"x": "a", "y": 1}}, "move.to"),
    ({"type": "place_ring", "player": 1, "to": {"x": 1}}, "move.to"),
    ({"type": "eliminate_rings_from_stack", "player": 1, "to": {"x": 1, "y": 1},
      "eliminationContext": "whim"}, "move.eliminationContext"),
    ([1, 2], "move"),
])
def test_malformed_moves_name_the_field(raw: Any, path: str) -> None:
    with pytest.raises(WireFormatError) as info:
        move_from_json(raw)
    assert info.value.path == path


@pytest.mark.parametrize(("position", "board", "size", "inside"), [
    (Position(7, 7), "square8", 8, True),
    (Position(8, 0), "square8", 8, False),
    (Position(3, 3, -6), "square8", 8, False),  # a hex position on a square board
    (Position(6, 0, -6), "hexagonal", 13, True),  # radius (13 - 1) / 2 = 6 (wire-format §10.7)
    (Position(7, 0, -7), "hexagonal", 13, False),
    (Position(3, 3, 0), "hexagonal", 11, False),  # x + y + z != 0
    (Position(2, -1), "hex8", 9, True),  # z taken as -x - y
])
def test_on_board(position: Position, board: str, size: int, inside: bool) -> None:
    assert on_board(position, board, size) is inside


def test_position_keys() -> None:
    assert Position(-3, 1, 2).key == "-3,1,2" and Position(10, 0).key == "10,0"
    assert position_from_key("-3,1,2") == Position(-3, 1, 2)
    assert Position(2, -1).canonical_hex() == Position(2, -1, -1)
    with pytest.raises(ValueError, match="2 or 3"):
        position_from_key("1,2,3,4")
