"""GameRecord and MoveRecord JSON / JSONL (wire-format §6).

A record is a finished game's header plus every move, bookkeeping moves included;
replayers start from the standard initial state of ``board_type``/``num_players``.
Moves are read into the shared ``Move`` type (``thinkTimeMs`` becomes
``think_time``; ``rrn`` and ``mctsPolicy`` stay in ``Move.extra``).

The same reader accepts a *trace*, ``{"boardType", "numPlayers", "initialState"?,
"moves"}``, used by tools and tests to replay from a given position.

Writing follows §6.2 and, beyond it, keeps ``eliminationContext`` and the recovery
fields when a move has them: §6.2 records drop them, which leaves recovery moves
under-specified, and readers ignore fields they do not know.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringrift.configs import BOARD_TYPES, PLAYER_COUNTS
from ringrift.game.errors import WireFormatError
from ringrift.game.move import Move
from ringrift.game.wire import WireState, loads_json, state_from_json, state_to_json
from ringrift.game.wire_move import move_from_json, move_to_json
from ringrift.game.wire_values import read_dict, read_int, read_list

GAME_OUTCOMES = frozenset({"ring_elimination", "territory_control", "last_player_standing",
                           "timeout", "resignation", "draw", "abandonment"})
RECORD_VERSION = "1.0"

# Move fields a MoveRecord carries (§6.2), plus the fidelity extension described above.
_RECORD_MOVE_FIELDS = ("from", "to", "captureTarget", "placementCount", "placedOnStack",
                       "formedLines", "collapsedMarkers", "disconnectedRegions",
                       "eliminatedRings", "eliminationContext", "recoveryMode",
                       "recoveryOption", "collapsePositions", "extractionStacks", "rrn",
                       "mctsPolicy")


@dataclass(slots=True)
class GameRecord:
    """A game record (§6.1). Header fields not listed here are kept in ``extra``."""

    board_type: str
    num_players: int
    moves: list[Move]
    id: str = ""
    rng_seed: int | None = None
    is_rated: bool = False
    players: list[dict[str, Any]] = field(default_factory=list)
    winner: int | None = None
    outcome: str | None = None
    final_score: dict[str, Any] | None = None
    started_at: str | None = None
    ended_at: str | None = None
    total_duration_ms: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    initial_state_hash: str | None = None
    final_state_hash: str | None = None
    initial_state: WireState | None = None
    """Only traces carry one; a record proper starts from the standard initial state."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def config_key(self) -> str:
        return f"{self.board_type}_{self.num_players}p"


_HEADER_FIELDS = frozenset({
    "id", "boardType", "numPlayers", "rngSeed", "isRated", "players", "winner", "outcome",
    "finalScore", "startedAt", "endedAt", "totalMoves", "totalDurationMs", "moves", "metadata",
    "initialStateHash", "finalStateHash", "initialState",
})


def record_from_json(value: Any, path: str = "record") -> GameRecord:
    """Read a GameRecord or a trace.

    Raises:
        WireFormatError: a required field (``boardType``, ``numPlayers``, ``moves``) is
            missing or any field is malformed; the error's path locates it.
    """
    obj = read_dict(value, path)
    board_type = obj.get("boardType")
    if board_type not in BOARD_TYPES:
        raise WireFormatError(f"unknown board type {board_type!r}; expected one of "
                              f"{', '.join(BOARD_TYPES)}", f"{path}.boardType")
    num_players = read_int(obj.get("numPlayers"), f"{path}.numPlayers")
    if num_players not in PLAYER_COUNTS:
        raise WireFormatError(f"unsupported player count {num_players}; expected 2, 3 or 4",
                              f"{path}.numPlayers")
    moves = [move_from_json(raw, f"{path}.moves[{i}]")
             for i, raw in enumerate(read_list(obj.get("moves"), f"{path}.moves"))]
    outcome = obj.get("outcome")
    if outcome is not None and outcome not in GAME_OUTCOMES:
        raise WireFormatError(f"unknown outcome {outcome!r}", f"{path}.outcome")
    total = obj.get("totalMoves")
    if total is not None and read_int(total, f"{path}.totalMoves") != len(moves):
        raise WireFormatError(f"totalMoves is {total} but the record holds {len(moves)} moves",
                              f"{path}.totalMoves")
    initial = obj.get("initialState")
    winner, seed, duration = obj.get("winner"), obj.get("rngSeed"), obj.get("totalDurationMs")
    return GameRecord(
        board_type=board_type,
        num_players=num_players,
        moves=moves,
        id=str(obj.get("id") or ""),
        rng_seed=None if seed is None else read_int(seed, f"{path}.rngSeed"),
        is_rated=bool(obj.get("isRated", False)),
        players=[read_dict(p, f"{path}.players[{i}]")
                 for i, p in enumerate(read_list(obj.get("players") or [], f"{path}.players"))],
        winner=None if winner is None else read_int(winner, f"{path}.winner", minimum=1),
        outcome=outcome,
        final_score=obj.get("finalScore"),
        started_at=obj.get("startedAt"),
        ended_at=obj.get("endedAt"),
        total_duration_ms=None if duration is None
        else read_int(duration, f"{path}.totalDurationMs"),
        metadata=read_dict(obj.get("metadata") or {}, f"{path}.metadata"),
        initial_state_hash=obj.get("initialStateHash"),
        final_state_hash=obj.get("finalStateHash"),
        initial_state=None if initial is None
        else state_from_json(initial, path=f"{path}.initialState"),
        extra={k: v for k, v in obj.items() if k not in _HEADER_FIELDS},
    )


def move_record_to_json(move: Move, index: int) -> dict[str, Any]:
    """A MoveRecord (§6.2): no ``id``/``timestamp``, ``thinkTimeMs`` for ``thinkTime``."""
    wire = move_to_json(move)
    out: dict[str, Any] = {"moveNumber": move.move_number or index + 1, "player": move.player,
                           "type": wire["type"]}
    for name in _RECORD_MOVE_FIELDS:
        if name in wire:
            out[name] = wire[name]
    out["thinkTimeMs"] = move.think_time or 0
    return out


def record_to_json(record: GameRecord) -> dict[str, Any]:
    """The GameRecord object, with ``totalMoves`` derived from the move list."""
    metadata = {"recordVersion": RECORD_VERSION, "source": "self_play", "tags": []}
    metadata.update(record.metadata)
    out: dict[str, Any] = {
        "id": record.id, "boardType": record.board_type, "numPlayers": record.num_players,
        "rngSeed": record.rng_seed, "isRated": record.is_rated, "players": record.players or [
            {"playerNumber": n, "username": f"Player {n}", "playerType": "ai"}
            for n in range(1, record.num_players + 1)],
        "winner": record.winner, "outcome": record.outcome,
        "finalScore": record.final_score or {},
        "startedAt": record.started_at, "endedAt": record.ended_at,
        "totalMoves": len(record.moves), "totalDurationMs": record.total_duration_ms or 0,
        "moves": [move_record_to_json(move, i) for i, move in enumerate(record.moves)],
        "metadata": metadata,
    }
    for name, value in (("initialStateHash", record.initial_state_hash),
                        ("finalStateHash", record.final_state_hash)):
        if value is not None:
            out[name] = value
    if record.initial_state is not None:
        out["initialState"] = state_to_json(record.initial_state)
    out.update(record.extra)
    return out


def loads_record(text: str | bytes, path: str = "record") -> GameRecord:
    return record_from_json(loads_json(text, path), path)


def dumps_record(record: GameRecord) -> str:
    return json.dumps(record_to_json(record), separators=(",", ":"))


def read_record_file(path: str | Path) -> GameRecord:
    """One record (or trace) from a ``.json`` file; errors name the file."""
    return loads_record(Path(path).read_bytes(), str(path))


def iter_jsonl(path: str | Path) -> Iterator[GameRecord]:
    """Records from a JSONL file, one per non-blank line; errors name the line."""
    with open(path, "rb") as stream:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                yield loads_record(line, f"{path}:{number}")


def write_jsonl(path: str | Path, records: Iterable[GameRecord]) -> int:
    """Write records one per line; returns how many were written."""
    count = 0
    with open(path, "w", encoding="utf-8") as stream:
        for record in records:
            stream.write(dumps_record(record))
            stream.write("\n")
            count += 1
    return count
