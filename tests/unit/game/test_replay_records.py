"""Replaying GameRecords into one result each: games that end mid-turn, incomplete games,
bad records, and JSONL files (``ringrift.game.replay``).

Checks: a record of our own engine cut right after the move at which a victory condition
holds mid-turn (what RingRift's Python engine records, rules §12.1, §16 D3) replays as a
completed game with the winner and reason read off the position by the rules, ended by
the after-move check, for ring elimination and territory with 2 and 3 players, while the
same moves through ``apply_move`` leave the game active (our play keeps the spec's
timing). A record that stops mid-turn with no condition holding is incomplete, not an
error. Complete games of our own end at a turn end and agree with their header; a header
that disagrees is reported. A JSONL file gives one result per line, past bad lines.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ringrift.configs import GameConfig
from ringrift.game.random_play import play_random
from ringrift.game.record import GameRecord, dumps_record, write_jsonl
from ringrift.game.replay import (
    AFTER_MOVE_CHECK,
    COMPLETED,
    ILLEGAL,
    INCOMPLETE,
    TURN_END,
    UNREADABLE,
    ReplayTotals,
    replay_jsonl,
    replay_record,
)
from tests.unit.game.py_records import cut_where_a_condition_holds, play


@pytest.mark.parametrize("players", [2, 3])
@pytest.mark.parametrize("reason", ["ring_elimination", "territory_control"])
def test_record_ending_where_the_after_move_check_holds_is_completed(players: int,
                                                                    reason: str) -> None:
    record, state, winner, reason = cut_where_a_condition_holds(GameConfig("square8", players),
                                                                reason)
    assert not state.is_terminal and state.phase != "ring_placement"  # mid-turn: our engine,
    # checking at turn end (the spec's timing), plays on

    result = replay_record(record, source="cut")
    assert (result.result, result.ended_by) == (COMPLETED, AFTER_MOVE_CHECK)
    assert (result.winner, result.victory_reason) == (winner, reason)
    assert result.mismatches == () and result.error is None
    assert result.final_state is not None and result.final_state.is_terminal
    assert result.final_state.phase == "game_over" and result.final_state.winner == winner
    summary = result.summary()
    assert summary["endedBy"] == "after_move_check" and summary["winner"] == winner


def test_record_ending_mid_turn_without_a_condition_is_incomplete() -> None:
    record, states = play(GameConfig("square8", 2), seed=1)
    cut = next(i for i, s in enumerate(states) if i > 20 and s.phase == "movement")
    partial = GameRecord("square8", 2, record.moves[:cut], id="partial")
    result = replay_record(partial)
    assert result.result == INCOMPLETE and result.error is None and result.winner is None
    assert result.final_state is not None and result.final_state.phase == "movement"
    assert result.summary()["phase"] == "movement" and result.mismatches == ()

    claimed = GameRecord("square8", 2, record.moves[:cut], winner=2, outcome="territory_control")
    assert len(replay_record(claimed).mismatches) == 2


def test_own_games_end_at_a_turn_end_and_agree_with_their_header() -> None:
    for seed in range(3):
        record, final = play_random(GameConfig("hex8", 3), seed)
        result = replay_record(record)
        assert (result.result, result.ended_by, result.mismatches) == (COMPLETED, TURN_END, ())
        assert (result.winner, result.victory_reason) == (final.winner, final.victory_reason)
    record.winner = 3 if final.winner != 3 else 1
    record.final_state_hash = "0" * 16
    found = replay_record(record).mismatches
    assert any("winner" in m for m in found) and any("finalStateHash" in m for m in found)


def test_jsonl_gives_one_result_per_line_past_bad_ones(tmp_path: Path) -> None:
    config = GameConfig("square8", 2)
    whole, _ = play_random(config, 4)
    cut, _, _, _ = cut_where_a_condition_holds(config, "territory_control")
    raw = json.loads(dumps_record(whole))
    raw["moves"][7]["player"] = 3 - raw["moves"][7]["player"]
    path = tmp_path / "games.jsonl"
    write_jsonl(path, [whole, cut])
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(json.dumps(raw) + "\n\n")
        stream.write('{"boardType": "square8", "numPlayers": 2, "moves": [\n')
        stream.write(dumps_record(GameRecord("square8", 2, whole.moves[:30])) + "\n")
    results = list(replay_jsonl(path))
    assert [r.result for r in results] == [COMPLETED, COMPLETED, ILLEGAL, UNREADABLE, INCOMPLETE]
    assert [r.source for r in results] == [f"{path}:{n}" for n in (1, 2, 3, 5, 6)]
    assert results[1].ended_by == AFTER_MOVE_CHECK
    assert results[2].illegal_at == 7 and results[2].error.startswith("move 7:")
    assert results[2].summary()["illegalAt"] == 7
    assert "malformed JSON" in results[3].error and results[3].record is None
    totals = ReplayTotals()
    for result in results:
        totals.add(result)
    assert totals.summary() == {"totals": True, "games": 5, "completed": 2, "incomplete": 1,
                                "illegal": 1, "unreadable": 1, "afterMoveCheck": 1,
                                "mismatched": 0}
    assert not totals.clean
