"""The game store's writes: accept a game once, keep each queue's pending counts.

:func:`store_game` is what the consumer handler and the file import both call: one
``INSERT ... ON CONFLICT DO NOTHING`` on the unique game id and one upsert of the game's
queue (``RETURNING`` its pending counts, so the caller can tell whether a shard is due),
two statements a game. A game id seen before is a no-op when the content is the same (a
redelivery, a second import of a file); with other content it is refused, since two
games must never share an id (a producer bug worth a dead letter). A game that was
rejected when its shard was built and comes again (a replayed dead letter, after a fix)
is pending again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ringrift.errors import PoisonMessage
from services.exporter.tables import GameStatus, PendingQueue, StoredGame, utc


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
class QueueState:
    """A queue's pending counts right after a game joined it."""

    pending_games: int
    pending_samples: int
    oldest_pending_at: datetime | None


def store_game(session: Session, game: NewGame) -> tuple[Stored, QueueState | None]:
    """Store ``game`` unless its id is there already; returns what happened and, for a game
    that is pending now, its queue's counts.

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
    inserted = session.execute(_dialect(session).insert(StoredGame).values(**values)
                               .on_conflict_do_nothing(index_elements=["game_id"])
                               .returning(StoredGame.id)).first()
    outcome = Stored.NEW
    if inserted is None:
        outcome = _stored_before(session, game, digest, values)
        if outcome is Stored.DUPLICATE:
            return outcome, None
    return outcome, _join_queue(session, game, now)


def _stored_before(session: Session, game: NewGame, digest: str, values: dict) -> Stored:
    row = session.execute(select(StoredGame.status, StoredGame.record_sha256,
                                 StoredGame.event_id, StoredGame.config_key)
                          .where(StoredGame.game_id == game.game_id)).one()
    if row.status == GameStatus.REJECTED and row.config_key == game.config_key:
        session.execute(update(StoredGame).where(StoredGame.game_id == game.game_id)
                        .values(**values, reason=None, shard_id=None))
        return Stored.RETRIED
    if row.record_sha256 == digest:
        return Stored.DUPLICATE
    first = f" (first from event {row.event_id})" if row.event_id else ""
    raise PoisonMessage(f"game id {game.game_id!r} is stored already with other content"
                        f"{first}; every game needs its own id: the producer reused one")


def _join_queue(session: Session, game: NewGame, now: datetime) -> QueueState:
    statement = _dialect(session).insert(PendingQueue).values(
        config_key=game.config_key, origin=game.origin, pending_games=1,
        pending_samples=game.num_samples, oldest_pending_at=now, games_sharded=0,
        shards_written=0)
    table = PendingQueue.__table__.c
    statement = statement.on_conflict_do_update(
        index_elements=["config_key", "origin"],
        set_={"pending_games": table.pending_games + 1,
              "pending_samples": table.pending_samples + statement.excluded.pending_samples,
              "oldest_pending_at": func.coalesce(table.oldest_pending_at,
                                                  statement.excluded.oldest_pending_at)},
    ).returning(table.pending_games, table.pending_samples, table.oldest_pending_at)
    row = session.execute(statement).one()
    return QueueState(row.pending_games, row.pending_samples, utc(row.oldest_pending_at) if row.oldest_pending_at else None)


def _dialect(session: Session):  # type: ignore[no-untyped-def]
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
