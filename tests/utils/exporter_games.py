"""Games for the exporter's tests: seeded random GameRecords, and reading back what it wrote.

Random games are completed games of real RingRift (``ringrift.game.random_play``), cheap to
make and replayable; :func:`records` caches them per process, since every exporter test
wants a few. :func:`shard_rows` and :func:`games_by_shard` read the exporter's own tables.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, select

from ringrift.configs import GameConfig
from ringrift.game.random_play import play_random
from ringrift.game.record import GameRecord, dumps_record
from ringrift.storage.database import session_scope
from services.exporter.tables import Shard, StoredGame


@cache
def records(count: int, config_key: str = "square8_2p") -> tuple[GameRecord, ...]:
    """``count`` completed random games of ``config_key`` (seeds 0..count-1)."""
    config = GameConfig.parse(config_key)
    return tuple(play_random(config, seed)[0] for seed in range(count))


def incomplete(record: GameRecord) -> GameRecord:
    """The record cut after half its moves: a game that has not ended."""
    return replace(record, moves=record.moves[:len(record.moves) // 2], id=record.id + "-cut",
                   winner=None, outcome=None, final_state_hash=None)


def write_jsonl(path: Path, items: list[GameRecord | str]) -> Path:
    """A JSONL file of records (a str is written as the line itself, e.g. a broken one)."""
    path.write_text("".join((item if isinstance(item, str) else dumps_record(item)) + "\n"
                            for item in items))
    return path


def games_by_shard(engine: Engine) -> dict[str | None, list[str]]:
    """Game ids per shard id (None: not in a shard), in arrival order."""
    with session_scope(engine, read_only=True) as session:
        out: dict[str | None, list[str]] = {}
        for game_id, shard_id in session.execute(
                select(StoredGame.game_id, StoredGame.shard_id).order_by(StoredGame.id)):
            out.setdefault(shard_id, []).append(game_id)
        return out


def shard_rows(engine: Engine) -> list[dict]:
    """Every shard row as a dict, by window sequence."""
    with session_scope(engine, read_only=True) as session:
        rows = session.scalars(select(Shard).order_by(Shard.config_key,
                                                      Shard.window_end_sequence)).all()
        return [{column: getattr(row, column) for column in Shard.__table__.columns.keys()}
                | {"source_model_ids": json.loads(row.source_model_ids)} for row in rows]
