"""Games for the exporter's tests: seeded random GameRecords and synthetic self-play games
as ``GameCompleted`` events, and reading back what the exporter wrote.

Random games are completed games of real RingRift (``ringrift.game.random_play``), cheap to
make and replayable; synthetic self-play games add a random policy per decision
(``ringrift.selfplay.synthetic``) and are encoded with selfplay's record codec, as selfplay
publishes them. Both are cached per process, since every exporter test wants a few.
:func:`shard_rows` and :func:`games_by_shard` read the exporter's own tables.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, select

from ringrift.configs import GameConfig
from ringrift.events.envelope import Event, new_event
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted
from ringrift.game.random_play import play_random
from ringrift.game.record import GameRecord, dumps_record
from ringrift.selfplay.play import SelfPlayGame
from ringrift.selfplay.record_codec import encode_game
from ringrift.selfplay.synthetic import synthetic_game
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


@cache
def self_played(count: int, config_key: str = "square8_2p", first_seed: int = 0,
                truncated_every: int = 0) -> tuple[SelfPlayGame, ...]:
    """``count`` synthetic self-play games (every ``truncated_every``-th one truncated)."""
    config = GameConfig.parse(config_key)
    return tuple(synthetic_game(config, seed, game_id=f"sp-{config_key}-{seed}",
                                max_moves=12 if truncated_every and seed % truncated_every
                                == truncated_every - 1 else None)
                 for seed in range(first_seed, first_seed + count))


def game_completed(game: SelfPlayGame, seat_model_ids: list[str] | None = None,
                   **changes: object) -> GameCompleted:
    """The ``GameCompleted`` selfplay publishes for ``game`` (fields overridable)."""
    config = game.final_state.config
    seats = seat_model_ids or ["uniform"] * config.num_players
    record = encode_game(game, seats)
    payload = GameCompleted(
        game_id=game.game_id, config_key=config.key, seat_model_ids=seats,
        record=record.data, record_encoding=record.encoding, num_moves=len(game.moves),
        ranking=list(game.ranking), simulations_per_move=4, terminal=not game.truncated)
    for name, value in changes.items():
        if isinstance(value, list):
            payload.ClearField(name)
            getattr(payload, name).extend(value)
        else:
            setattr(payload, name, value)
    return payload


def game_event(payload: GameCompleted, config_key: str | None = None,
               event_id: str | None = None) -> Event[GameCompleted]:
    return new_event(payload, config_key=config_key or payload.config_key, producer="selfplay",
                     event_id=event_id)
