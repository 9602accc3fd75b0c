"""Reading what RingRift's Python engine writes: the placeholder shapes of wire-format §5.5.

Checks, one test per shape (on square8 and hex8): a game of our engine rewritten in
that shape reads, replays to the same result and final state as the game itself, and
writes its placeholders back as they came. Fields a move's type uses are still
validated; the same fields on a type that does not use them are ignored (kept in
``Move.extra``). A PY state in TS wire form whose ``moveHistory`` holds such moves reads
to the engine state the game was in, including what is derived from the history.
"""

from __future__ import annotations

from typing import Any

import pytest

from ringrift.configs import GameConfig
from ringrift.game import engine, fingerprint
from ringrift.game.errors import WireFormatError
from ringrift.game.move import MoveType
from ringrift.game.record import GameRecord, record_from_json, record_to_json
from ringrift.game.replay import replay_record
from ringrift.game.state import GameState
from ringrift.game.wire import state_from_json, state_to_json
from ringrift.game.wire_move import move_from_json
from tests.unit.game.py_records import SHAPES, game_with, play, py_style

CONFIGS = [GameConfig("square8", 2), GameConfig("hex8", 2)]


def _comparable(raw_move: dict[str, Any]) -> dict[str, Any]:
    """The fields a writer must give back unchanged: MoveRecords carry no ``id``, and a
    position read with ``"z": null`` is written without it."""
    return {k: v for k, v in raw_move.items() if v is not None and k != "id"
            and not (isinstance(v, dict) and v.get("z", 0) is None)}


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.key)
@pytest.mark.parametrize("name", list(SHAPES))
def test_placeholder_shape_reads_and_replays_like_the_game(name: str, config: GameConfig) -> None:
    shape = SHAPES[name]
    record, states = game_with(config, shape)
    raw, changed = py_style(record, shape.rewrite)
    assert changed > 0  # the game holds the shape: the test exercises it

    rewritten = record_from_json(raw)
    result = replay_record(rewritten)
    assert result.error is None and result.moves_applied == len(record.moves)
    assert result.result == replay_record(record).result
    assert fingerprint(result.final_state) == fingerprint(states[-1])

    written = record_to_json(rewritten)["moves"]
    for index, (before, after) in enumerate(zip(raw["moves"], written, strict=True)):
        kept = _comparable(before)
        assert {k: after.get(k) for k in kept} == kept, index


def test_placeholders_are_kept_not_read() -> None:
    raw = {"id": "simulated", "type": "forced_elimination", "player": 1, "to": {"x": 2, "y": 2},
           "placementCount": 0, "placedOnStack": False, "recoveryMode": "sideways",
           "formedLines": [{"positions": []}], "captureTarget": "nowhere",
           "eliminationContext": "whim", "from": None}
    move = move_from_json(raw)
    assert move.placement_count is None and move.placed_on_stack is None
    assert move.recovery_mode is None and move.formed_lines == () and move.capture_target is None
    assert move.elimination_context is None
    assert move.extra == {"placementCount": 0, "placedOnStack": False, "recoveryMode": "sideways",
                          "formedLines": [{"positions": []}], "captureTarget": "nowhere",
                          "eliminationContext": "whim"}


@pytest.mark.parametrize(("raw", "path"), [
    ({"type": "place_ring", "player": 1, "to": {"x": 1, "y": 1}, "placementCount": 0},
     "move.placementCount"),
    ({"type": "forced_elimination", "player": 1, "placementCount": 0}, "move.to"),
    ({"type": "recovery_slide", "player": 1, "from": {"x": 1, "y": 1}, "to": {"x": 1, "y": 2},
      "recoveryMode": "sideways"}, "move.recoveryMode"),
    ({"type": "choose_line_option", "player": 1, "formedLines": [{"positions": [],
                                                                  "player": 1}]},
     "move.formedLines[0].positions"),
    ({"type": "overtaking_capture", "player": 1, "from": {"x": 1, "y": 1},
      "captureTarget": "nowhere", "to": {"x": 1, "y": 3}}, "move.captureTarget"),
    ({"type": "eliminate_rings_from_stack", "player": 1, "to": {"x": 1, "y": 1},
      "eliminationContext": "whim"}, "move.eliminationContext"),
])
def test_fields_a_type_uses_are_still_validated(raw: dict[str, Any], path: str) -> None:
    with pytest.raises(WireFormatError) as info:
        move_from_json(raw)
    assert info.value.path == path


def _game_with_every_shape() -> tuple[GameRecord, list[GameState]]:
    """A hex8 game holding a forced elimination, a skip_recovery and a line reward."""
    for seed in range(100):
        record, states = play(GameConfig("hex8", 2), seed, MoveType.SKIP_RECOVERY)
        if all(any(shape.holds(m) for m in record.moves) for shape in SHAPES.values()
               if shape.prefer is not MoveType.SKIP_PLACEMENT):
            return record, states
    raise AssertionError("no hex8 game among 100 seeds holds every shape")


def test_py_state_whose_history_holds_placeholder_moves_reads() -> None:
    record, states = _game_with_every_shape()
    raw = record_to_json(record)
    for shape in SHAPES.values():
        for index, move in enumerate(raw["moves"]):
            shape.rewrite(move, index, record.board_type)
    checked = 0
    for cut in range(1, len(record.moves)):
        state = states[cut]
        if state.is_terminal:
            break
        doc = state_to_json(state.to_wire())
        doc["moveHistory"] = raw["moves"][:cut]
        read = GameState.from_wire(state_from_json(doc))
        assert fingerprint(read) == fingerprint(state), cut
        assert engine.legal_moves(read) == engine.legal_moves(state), cut
        checked += 1
    assert checked > 100
