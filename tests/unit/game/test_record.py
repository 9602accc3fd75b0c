"""GameRecord / MoveRecord JSON and JSONL (wire-format §6).

Checks: a §6-shaped record reads (``thinkTimeMs``, ``rrn``, legacy type names,
PY's ``null`` fields) and writes back to an equal record; MoveRecords drop ``id``
and ``timestamp`` but keep recovery fields; traces with an ``initialState``; JSONL
round trip; errors naming the record line and field (unknown board, bad player
count, a stale ``totalMoves``, a bad move, malformed JSON).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ringrift.game.errors import WireFormatError
from ringrift.game.move import MoveType, Position
from ringrift.game.record import (
    iter_jsonl,
    loads_record,
    record_from_json,
    record_to_json,
    write_jsonl,
)


def sample_record() -> dict[str, Any]:
    return {
        "id": "game-1", "boardType": "square8", "numPlayers": 2, "rngSeed": 7, "isRated": False,
        "players": [{"playerNumber": 1, "username": "a", "playerType": "ai"},
                    {"playerNumber": 2, "username": "b", "playerType": "ai"}],
        "winner": 1, "outcome": "ring_elimination",
        "finalScore": {"ringsEliminated": {"1": 18}, "territorySpaces": {}, "ringsRemaining": {}},
        "startedAt": "2025-12-01T00:00:00Z", "endedAt": "2025-12-01T00:10:00Z",
        "totalMoves": 3, "totalDurationMs": 600000,
        "moves": [
            {"moveNumber": 1, "player": 1, "type": "place_ring", "from": None,
             "to": {"x": 3, "y": 3, "z": None}, "placementCount": 1, "placedOnStack": False,
             "thinkTimeMs": 12, "rrn": "Pd4", "mctsPolicy": {"0": 0.5, "3": 0.5}},
            {"moveNumber": 2, "player": 1, "type": "move_ring", "from": {"x": 3, "y": 3},
             "to": {"x": 3, "y": 4}, "thinkTimeMs": 3},
            {"moveNumber": 3, "player": 1, "type": "no_line_action", "to": None,
             "thinkTimeMs": 0},
        ],
        "metadata": {"recordVersion": "1.0", "createdAt": "2025-12-01T00:10:00Z",
                     "source": "self_play", "tags": ["test"]},
    }


def test_record_reads_move_records() -> None:
    record = record_from_json(sample_record())
    assert record.config_key == "square8_2p"
    first, second, third = record.moves
    assert first.to == Position(3, 3) and first.think_time == 12
    assert first.extra == {"rrn": "Pd4", "mctsPolicy": {"0": 0.5, "3": 0.5}}
    assert second.type is MoveType.MOVE_STACK and second.from_pos == Position(3, 3)
    assert third.type is MoveType.NO_LINE_ACTION and third.to is None


def test_record_round_trips() -> None:
    record = record_from_json(sample_record())
    written = record_to_json(record)
    assert written["moves"][1]["type"] == "move_stack"
    assert "id" not in written["moves"][0] and "timestamp" not in written["moves"][0]
    assert written["moves"][0]["thinkTimeMs"] == 12
    assert record_from_json(written) == record


def test_recovery_fields_survive_a_record() -> None:
    raw = sample_record()
    raw["moves"].append({"moveNumber": 4, "player": 2, "type": "recovery_slide",
                         "from": {"x": 1, "y": 1}, "to": {"x": 1, "y": 2},
                         "recoveryMode": "fallback", "extractionStacks": ["5,5"]})
    raw["totalMoves"] = 4
    record = record_from_json(raw)
    again = record_from_json(record_to_json(record))
    assert again.moves[3].extraction_stacks == ("5,5",)
    assert again.moves[3].recovery_mode == "fallback"


def test_trace_with_initial_state() -> None:
    trace = {"boardType": "square8", "numPlayers": 2, "moves": [], "initialState": {
        "board": {"type": "square8", "size": 8, "stacks": {}, "markers": {},
                  "collapsedSpaces": {}},
        "players": [{"playerNumber": 1, "ringsInHand": 18}, {"playerNumber": 2, "ringsInHand": 18}],
        "currentPlayer": 2, "currentPhase": "ring_placement", "gameStatus": "active"}}
    record = record_from_json(trace)
    assert record.initial_state is not None and record.initial_state.current_player == 2
    assert record_from_json(record_to_json(record)).initial_state == record.initial_state


def test_jsonl_round_trip_and_line_numbers_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "games.jsonl"
    record = record_from_json(sample_record())
    assert write_jsonl(path, [record, record]) == 2
    assert list(iter_jsonl(path)) == [record, record]
    with open(path, "a", encoding="utf-8") as stream:
        stream.write('{"boardType": "square8", "numPlayers": 2, "moves": [{"type": "x"}]}\n')
    with pytest.raises(WireFormatError) as info:
        list(iter_jsonl(path))
    assert info.value.path == f"{path}:3.moves[0].type"


@pytest.mark.parametrize(("change", "path"), [
    ({"boardType": "octagon"}, "record.boardType"),
    ({"numPlayers": 5}, "record.numPlayers"),
    ({"totalMoves": 9}, "record.totalMoves"),
    ({"outcome": "knockout"}, "record.outcome"),
    ({"moves": [{"type": "place_ring", "player": 1}]}, "record.moves[0].to"),
])
def test_bad_records_name_the_field(change: dict[str, Any], path: str) -> None:
    raw = sample_record()
    raw.update(change)
    if "moves" in change:
        raw["totalMoves"] = len(change["moves"])
    with pytest.raises(WireFormatError) as info:
        record_from_json(raw)
    assert info.value.path == path


def test_malformed_json_record() -> None:
    with pytest.raises(WireFormatError, match="malformed JSON"):
        loads_record("{nope")
