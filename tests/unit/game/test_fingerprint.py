"""The canonical fingerprint and compact hash against the worked examples of wire-format §8.3.

Checks: each example state (built as contract-form JSON and read through the wire
reader) gives the documented fingerprint string and ``simpleHash``; the empty-string
check value; code-unit sorting of whole entries (``"1,10:"`` before ``"1,1:"``);
terminal normalisation of META; the pending flag; the S invariant and its
elimination sources (§9); ``fingerprint`` accepting an object with ``to_wire()``.
"""

from __future__ import annotations

from typing import Any

import pytest

from ringrift.game.fingerprint import (
    compact_hash,
    eliminated_total,
    fingerprint,
    s_invariant,
    simple_hash,
)
from ringrift.game.wire import WireState, state_from_json


def _stack(key: str, rings: list[int]) -> tuple[str, dict[str, Any]]:
    parts = [int(p) for p in key.split(",")]
    position = {"x": parts[0], "y": parts[1]}
    if len(parts) == 3:
        position["z"] = parts[2]
    cap = 1
    while cap < len(rings) and rings[cap] == rings[0]:
        cap += 1
    return key, {"position": position, "rings": rings, "stackHeight": len(rings),
                 "capHeight": cap, "controllingPlayer": rings[0]}


def make_state(*, board: str = "square8", player: int = 1, phase: str = "movement",
               status: str = "waiting", hands: tuple[tuple[int, int, int], ...] = (
                   (18, 0, 0), (18, 0, 0)),
               stacks: dict[str, list[int]] | None = None, markers: dict[str, int] | None = None,
               collapsed: dict[str, int] | None = None, pending: bool = False) -> WireState:
    """Read a contract-form state holding exactly what the fingerprint looks at."""
    size = {"square8": 8, "hex8": 9}[board]
    raw_markers = {}
    for key, owner in (markers or {}).items():
        x, y = (int(p) for p in key.split(",")[:2])
        raw_markers[key] = {"position": {"x": x, "y": y}, "player": owner, "type": "regular"}
    state = {
        "board": {"type": board, "size": size,
                  "stacks": dict(_stack(k, r) for k, r in (stacks or {}).items()),
                  "markers": raw_markers, "collapsedSpaces": collapsed or {}},
        "players": [{"playerNumber": i + 1, "ringsInHand": h, "eliminatedRings": e,
                     "territorySpaces": t, "isActive": True} for i, (h, e, t) in enumerate(hands)],
        "currentPlayer": player, "currentPhase": phase, "gameStatus": status,
        "moveHistory": [], "pendingLineRewardElimination": pending,
    }
    return state_from_json(state)


EXAMPLES = [
    pytest.param(make_state(hands=((17, 0, 0), (18, 0, 0)), stacks={"3,3": [1]}),
                 "1:movement:waiting:0#1:17:0:0|2:18:0:0#3,3:1:1:1##", "88c0062fd6b5b6e6",
                 id="1-place-ring-center"),
    pytest.param(make_state(player=2, phase="ring_placement", hands=((17, 0, 0), (18, 0, 0)),
                            stacks={"3,4": [1]}, markers={"3,3": 1}),
                 "2:ring_placement:waiting:0#1:17:0:0|2:18:0:0#3,4:1:1:1#3,3:1#",
                 "4d5d8fd49b7ec93b", id="2-move-with-marker"),
    pytest.param(make_state(player=2, phase="ring_placement", hands=((18, 2, 0), (18, 0, 0))),
                 "2:ring_placement:waiting:0#1:18:2:0|2:18:0:0###", "fdbea409a30ab7db",
                 id="3-empty-board"),
    pytest.param(make_state(phase="territory_processing", hands=((18, 0, 1), (18, 0, 0)),
                            stacks={"7,7": [1]}, collapsed={"0,0": 1}),
                 "1:territory_processing:waiting:0#1:18:0:1|2:18:0:0#7,7:1:1:1##0,0:1",
                 "9260956c8f7ef653", id="4-territory"),
    pytest.param(make_state(board="hex8", phase="territory_processing",
                            hands=((18, 0, 2), (18, 0, 0)),
                            stacks={"3,-1": [1, 1], "-3,1": [2]},
                            collapsed={"2,-1": 1, "2,-2": 1}),
                 "1:territory_processing:waiting:0#1:18:0:2|2:18:0:0#-3,1:2:1:1|3,-1:1:2:2##"
                 "2,-1:1|2,-2:1", "25dd85ae9d15abaf", id="5-hex-two-component-keys"),
    pytest.param(make_state(phase="line_processing", status="active",
                            hands=((15, 0, 4), (17, 0, 0)), pending=True,
                            stacks={"3,1": [1], "6,6": [2], "7,7": [1, 1]},
                            collapsed={"0,0": 1, "1,0": 1, "2,0": 1, "3,0": 1}),
                 "1:line_processing:active:1#1:15:0:4|2:17:0:0#3,1:1:1:1|6,6:2:1:1|7,7:1:2:2##"
                 "0,0:1|1,0:1|2,0:1|3,0:1", "c42e8d80c600e705", id="6-pending-line-reward"),
    pytest.param(make_state(player=2, phase="forced_elimination", status="completed",
                            hands=((0, 2, 0), (10, 0, 0)),
                            stacks={"0,1": [2, 2, 2], "1,0": [2, 2, 2], "1,1": [2, 2, 2]}),
                 "0:game_over:completed:0#1:0:2:0|2:10:0:0#0,1:2:3:3|1,0:2:3:3|1,1:2:3:3##",
                 "d809a1c2ddcb53d1", id="7-terminal"),
]


@pytest.mark.parametrize(("state", "expected", "expected_hash"), EXAMPLES)
def test_worked_examples(state: WireState, expected: str, expected_hash: str) -> None:
    assert fingerprint(state) == expected
    assert simple_hash(expected) == expected_hash
    assert compact_hash(state) == expected_hash


def test_empty_string_check_value() -> None:
    assert simple_hash("") == "488bdcb81aee8d83"


def test_entries_sort_as_whole_strings_in_code_unit_order() -> None:
    state = make_state(stacks={"1,1": [1], "1,0": [2], "2,0": [1]},
                       collapsed={"1,7": 2, "1,6": 1})
    state.stacks["1,10"] = state.stacks.pop("1,0")  # a key only a 19x19 board could hold
    stacks_section = fingerprint(state).split("#")[2]
    assert stacks_section == "1,10:2:1:1|1,1:1:1:1|2,0:1:1:1"
    assert fingerprint(state).split("#")[4] == "1,6:1|1,7:2"


def test_abandoned_is_terminal_and_paused_is_not() -> None:
    assert fingerprint(make_state(status="abandoned")).startswith("0:game_over:abandoned:0#")
    assert fingerprint(make_state(status="paused")).startswith("1:movement:paused:0#")


def test_legacy_finished_status_reads_as_completed() -> None:
    assert fingerprint(make_state(status="finished")).startswith("0:game_over:completed:0#")


def test_fingerprint_accepts_an_object_with_to_wire() -> None:
    state = make_state(stacks={"3,3": [1]})

    class EngineState:
        def to_wire(self) -> WireState:
            return state

    assert fingerprint(EngineState()) == fingerprint(state)


def test_s_invariant_counts_markers_collapsed_and_eliminations() -> None:
    state = make_state(markers={"3,3": 1, "4,4": 2}, collapsed={"0,0": 1})
    state.board_eliminated_rings = {1: 2, 2: 1}
    assert s_invariant(state) == 2 + 1 + 3
    state.total_rings_eliminated = 5  # preferred by TS when present
    assert eliminated_total(state, "ts") == 5
    assert eliminated_total(state, "board") == 3
    assert eliminated_total(state, "max") == 5
    assert s_invariant(state, "board") == 6
