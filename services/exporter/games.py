"""The game store: accept a game once; what each queue has pending.

:func:`store_game` is what the consumer handler and the file import both call: one
``INSERT ... ON CONFLICT DO NOTHING`` on the unique game id, one statement a game (built
once per dialect, run on the Core connection: ingest is what this service does most). A
game id seen before is a no-op when the record is the same (a redelivery, a republish
under a new event id, a second import of a file); with another record it is refused, since
two games must never share an id (a producer bug worth a dead letter). A game that was
rejected when its shard was built and comes again (a replayed dead letter, after a fix) is
pending again. :func:`pending` sums up a queue's pending games (one grouped query).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ringrift.errors import PoisonMessage
from services.exporter.tables import GameStatus, StoredGame, utc


@dataclass(frozen=True)
class NewGame:
    """A game to store, as the handler or the import read it."""

    game_id: str
    config_key: str
    origin: str
    content_encoding: str
    content: bytes
    num_moves: int
    num_samples: int
    seat_model_ids: Sequence[str]
    produced_at: datetime
    record: bytes
    """The game's record as it came (what tells a repeat from another game with its id)."""
    event_id: str = ""


class Stored(StrEnum):
    NEW = "new"
    DUPLICATE = "duplicate"
    """Stored before with the same content: nothing changed."""
    RETRIED = "retried"
    """Rejected before, pending again."""


@dataclass(frozen=True)
class Pending:
    """What a queue (config and origin) has waiting for a shard."""

    games: int
    samples: int
    oldest_stored_at: datetime


def store_game(session: Session, game: NewGame) -> Stored:
    """Store ``game`` unless its id is there already; returns what happened.

    Raises:
        PoisonMessage: the id is stored already with other content.
    """
    now = datetime.now(UTC)
    digest = hashlib.sha256(game.record).hexdigest()
    values = {
        "game_id": game.game_id, "config_key": game.config_key, "origin": game.origin,
        "status": GameStatus.PENDING, "event_id": game.event_id,
        "content_encoding": game.content_encoding, "content": game.content,
        "record_sha256": digest, "num_moves": game.num_moves, "num_samples": game.num_samples,
        "seat_model_ids": json.dumps(list(game.seat_model_ids)),
        "produced_at": game.produced_at, "stored_at": now}
    connection = session.connection()  # Core: the ORM session's execute costs ~2x more
    inserted = connection.execute(_insert_game(connection.dialect.name), values).first()
    if inserted is None:
        return _stored_before(session, game, digest, values)
    return Stored.NEW


def pending(session: Session, config_key: str | None = None, origin: str | None = None
            ) -> dict[tuple[str, str], Pending]:
    """The pending games of every queue (or of one), by (config, origin)."""
    query = select(_GAMES.c.config_key, _GAMES.c.origin, func.count(),
                   func.sum(_GAMES.c.num_samples), func.min(_GAMES.c.stored_at)) \
        .where(_GAMES.c.status == GameStatus.PENDING) \
        .group_by(_GAMES.c.config_key, _GAMES.c.origin)
    if config_key is not None:
        query = query.where(_GAMES.c.config_key == config_key)
    if origin is not None:
        query = query.where(_GAMES.c.origin == origin)
    return {(row[0], row[1]): Pending(int(row[2]), int(row[3] or 0), utc(row[4]))
            for row in session.execute(query)}


def _stored_before(session: Session, game: NewGame, digest: str, values: dict) -> Stored:
    row = session.execute(select(_GAMES.c.status, _GAMES.c.record_sha256, _GAMES.c.event_id,
                                 _GAMES.c.config_key)
                          .where(_GAMES.c.game_id == game.game_id)).one()
    if row.status == GameStatus.REJECTED and row.config_key == game.config_key:
        session.execute(update(_GAMES).where(_GAMES.c.game_id == game.game_id)
                        .values(**values, reason=None, shard_id=None))
        return Stored.RETRIED
    if row.record_sha256 == digest:
        return Stored.DUPLICATE
    first = f" (first from event {row.event_id})" if row.event_id else ""
    raise PoisonMessage(f"game id {game.game_id!r} is stored already with other content"
                        f"{first}; every game needs its own id: the producer reused one")


_GAMES = StoredGame.__table__


@cache
def _insert_game(dialect: str) -> Any:
    """The insert of :func:`store_game`, built once per dialect on the Core table: building
    an ORM statement per game cost ~4x the database's own time."""
    insert = (postgresql if dialect == "postgresql" else sqlite).insert
    return insert(_GAMES).on_conflict_do_nothing(index_elements=["game_id"]) \
        .returning(_GAMES.c.id)
