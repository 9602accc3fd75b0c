"""``ringrift rules``: play, replay, apply, legal-moves, and one-line errors for bad input.

Checks: ``play`` writes a GameRecord that reads and writes back unchanged and that
``replay --fingerprints`` replays with exit 0, one JSON line per move (index,
fingerprint, hash) and a final line whose status and winner match the game; a record
cut where the after-move victory check holds ends with ``endedBy: after_move_check``;
a ``.jsonl`` file of played games gives one summary line per game (their final hashes)
and a totals line, and carries on past illegal, unreadable and incomplete records (exit
1); ``apply`` prints the next state; ``legal-moves`` prints the engine's legal moves.
Bad input exits 1 or 2 with one stderr line naming what and where, never a traceback:
malformed JSON, an unknown board, a missing file, an off-board cell, a move of the wrong
player, an illegal move inside a record (its index is named), an unknown ``--board``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ringrift.cli.main import main
from ringrift.configs import GameConfig
from ringrift.game import engine
from ringrift.game.record import dumps_record, loads_record, record_to_json
from ringrift.game.wire import state_to_json
from ringrift.game.wire_move import move_from_json
from tests.unit.game.py_records import cut_where_a_condition_holds


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(["rules", *argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "game.json"
    assert main(["rules", "play", "--board", "square8", "--players", "2", "--seed", "3",
                 "--output", str(path)]) == 0
    return path


def write(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def initial_state_file(tmp_path: Path) -> Path:
    state = engine.initial_state(GameConfig("square8", 2))
    return write(tmp_path / "state.json", state_to_json(state.to_wire()))


def test_play_then_replay_with_fingerprints(played: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    record = json.loads(played.read_text())
    assert record["boardType"] == "square8" and record["totalMoves"] == len(record["moves"])
    code, lines, err = run(capsys, "replay", str(played), "--fingerprints")
    assert code == 0, err
    steps = [json.loads(line) for line in lines]
    assert [s["index"] for s in steps[:-1]] == list(range(len(record["moves"])))
    assert all(s["fingerprint"].count("#") == 4 and len(s["hash"]) == 16 for s in steps[:-1])
    final = steps[-1]
    assert final["final"] is True and final["moves"] == len(record["moves"])
    assert final["status"] == "completed" and final["winner"] == record["winner"]
    assert final["victoryReason"] == record["outcome"]
    assert final["fingerprint"] == steps[-2]["fingerprint"]


def test_play_is_deterministic_for_a_seed(tmp_path: Path, played: Path) -> None:
    again = tmp_path / "again.json"
    assert main(["rules", "play", "--board", "square8", "--players", "2", "--seed", "3",
                 "--output", str(again)]) == 0
    assert json.loads(again.read_text())["moves"] == json.loads(played.read_text())["moves"]


def test_replay_names_the_first_illegal_move(tmp_path: Path, played: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    record = json.loads(played.read_text())
    record["moves"][5]["player"] = 3 - record["moves"][5]["player"]
    code, _, err = run(capsys, "replay", str(write(tmp_path / "bad.json", record)))
    assert code == 1
    line = one_line_error(err)
    assert "move 5:" in line and "turn" in line


def test_apply_and_legal_moves(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state_path = initial_state_file(tmp_path)
    move = write(tmp_path / "move.json", {"type": "place_ring", "player": 1,
                                          "to": {"x": 3, "y": 3}, "placementCount": 2})
    code, lines, err = run(capsys, "apply", "--state", str(state_path), "--move", str(move))
    assert code == 0, err
    after = json.loads(lines[0])
    assert after["board"]["stacks"]["3,3"]["rings"] == [1, 1]
    assert after["currentPhase"] == "movement"

    code, lines, err = run(capsys, "legal-moves", "--state", str(state_path))
    assert code == 0, err
    moves = json.loads(lines[0])
    expected = engine.legal_moves(engine.initial_state(GameConfig("square8", 2)))
    assert len(moves) == len(expected)
    assert {m["type"] for m in moves} == {m.type.value for m in expected}


@pytest.mark.parametrize(("move", "words"), [
    ({"type": "place_ring", "player": 1, "to": {"x": 9, "y": 9}}, "off the square8 board"),
    ({"type": "place_ring", "player": 2, "to": {"x": 3, "y": 3}}, "player 1's turn"),
    ({"type": "move_stack", "player": 1, "from": {"x": 3, "y": 3}, "to": {"x": 3, "y": 4}},
     "not legal"),
    ({"type": "place_ring", "player": 1}, "move.json: move.to"),
])
def test_apply_refuses_bad_moves(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 move: dict[str, Any], words: str) -> None:
    state_path = initial_state_file(tmp_path)
    move_path = write(tmp_path / "move.json", move)
    code, lines, err = run(capsys, "apply", "--state", str(state_path), "--move", str(move_path))
    assert code == 1 and not lines
    assert words in one_line_error(err)


def test_malformed_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"boardType": "square8", "moves": [', encoding="utf-8")
    code, _, err = run(capsys, "replay", str(broken))
    assert code == 1 and "malformed JSON" in one_line_error(err)

    unknown = write(tmp_path / "unknown.json", {"boardType": "octagon", "numPlayers": 2,
                                                "moves": []})
    code, _, err = run(capsys, "replay", str(unknown))
    assert code == 1 and "boardType" in one_line_error(err)

    state = json.loads(initial_state_file(tmp_path).read_text())
    state["board"]["type"] = "octagon"
    code, _, err = run(capsys, "legal-moves", "--state", str(write(tmp_path / "s.json", state)))
    assert code == 1 and "board.type" in one_line_error(err)

    code, _, err = run(capsys, "replay", str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in one_line_error(err)


def test_unknown_board_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["rules", "play", "--board", "octagon"])
    assert info.value.code == 2
    assert "invalid choice: 'octagon'" in capsys.readouterr().err



def test_replay_checks_the_final_state_hash(tmp_path: Path, played: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    record = json.loads(played.read_text())
    assert len(record["finalStateHash"]) == 16
    record["finalStateHash"] = "0" * 16
    code, lines, err = run(capsys, "replay", str(write(tmp_path / "tampered.json", record)))
    assert code == 1 and json.loads(lines[-1])["final"] is True
    assert "finalStateHash 0000000000000000" in one_line_error(err)


def test_replay_a_trace_from_a_given_state(tmp_path: Path, played: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    record = json.loads(played.read_text())
    assert record["initialStateHash"] and set(record["finalScore"]) == {
        "ringsEliminated", "territorySpaces", "ringsRemaining"}
    state = engine.initial_state(GameConfig("square8", 2))
    for raw in record["moves"][:6]:
        state = engine.apply_move(state, move_from_json(raw))
    trace = {"boardType": "square8", "numPlayers": 2,
             "initialState": state_to_json(state.to_wire()), "moves": record["moves"][6:12]}
    code, lines, err = run(capsys, "replay", str(write(tmp_path / "trace.json", trace)),
                           "--fingerprints")
    assert code == 0, err
    whole = run(capsys, "replay", str(played), "--fingerprints")[1]
    assert [json.loads(x)["fingerprint"] for x in lines[:6]] == [
        json.loads(x)["fingerprint"] for x in whole[6:12]]


def test_play_records_round_trip_exactly(played: Path) -> None:
    text = played.read_text()
    assert record_to_json(loads_record(text)) == json.loads(text)


def test_replay_jsonl_of_played_games(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "games.jsonl"
    records = []
    for seed in range(3):
        single = tmp_path / f"g{seed}.json"
        assert main(["rules", "play", "--board", "hex8", "--players", "3", "--seed", str(seed),
                     "--output", str(single)]) == 0
        records.append(json.loads(single.read_text()))
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    capsys.readouterr()
    code, lines, err = run(capsys, "replay", str(path))
    assert code == 0, err
    games, totals = [json.loads(x) for x in lines[:-1]], json.loads(lines[-1])
    assert [g["result"] for g in games] == ["completed"] * 3
    assert [g["endedBy"] for g in games] == ["turn_end"] * 3
    assert [g["hash"] for g in games] == [r["finalStateHash"] for r in records]
    assert [g["winner"] for g in games] == [r["winner"] for r in records]
    assert [g["source"] for g in games] == [f"{path}:{n}" for n in (1, 2, 3)]
    assert totals == {"totals": True, "games": 3, "completed": 3, "incomplete": 0, "illegal": 0,
                      "unreadable": 0, "afterMoveCheck": 0, "mismatched": 0}


def test_replay_jsonl_reports_each_bad_record_and_carries_on(
        tmp_path: Path, played: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = json.loads(played.read_text())
    illegal = json.loads(played.read_text())
    illegal["moves"][5]["player"] = 3 - illegal["moves"][5]["player"]
    partial = dict(record, moves=record["moves"][:9], totalMoves=9, finalStateHash=None)
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([json.dumps(illegal), "not json", json.dumps(partial),
                               json.dumps(record)]) + "\n", encoding="utf-8")
    code, lines, err = run(capsys, "replay", str(path))
    assert code == 1 and not err
    games, totals = [json.loads(x) for x in lines[:-1]], json.loads(lines[-1])
    assert [g["result"] for g in games] == ["illegal", "unreadable", "incomplete", "completed"]
    assert games[0]["illegalAt"] == 5 and "turn" in games[0]["error"]
    assert "malformed JSON" in games[1]["error"]
    assert "winner" in " ".join(games[2]["mismatch"])  # the header still names the winner
    assert (totals["games"], totals["illegal"], totals["unreadable"], totals["mismatched"]) == (
        4, 1, 1, 1)

    code, _, err = run(capsys, "replay", str(path), "--fingerprints")
    assert code == 2 and "--fingerprints" in one_line_error(err)


def test_replay_says_the_record_ended_by_the_after_move_check(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record, _, winner, reason = cut_where_a_condition_holds(GameConfig("square8", 2),
                                                            "ring_elimination")
    path = tmp_path / "cut.json"
    path.write_text(dumps_record(record), encoding="utf-8")
    code, lines, err = run(capsys, "replay", str(path))
    assert code == 0, err
    final = json.loads(lines[-1])
    assert (final["result"], final["endedBy"], final["status"]) == (
        "completed", "after_move_check", "completed")
    assert (final["winner"], final["victoryReason"]) == (winner, reason)
    assert final["fingerprint"].startswith("0:game_over:completed:")
