"""The exporter's queues and shards as a person reads them (``ringrift exporter status``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.exporter.tables import GameStatus, PendingQueue, Shard, StoredGame, utc


def status_lines(session: Session) -> Iterator[str]:
    """One line per config and origin: pending games/samples, oldest wait, shards, games."""
    samples = dict(session.execute(
        select(Shard.config_key + "/" + Shard.origin, func.sum(Shard.num_samples))
        .group_by(Shard.config_key, Shard.origin)).all())
    rejected = dict(session.execute(
        select(StoredGame.config_key + "/" + StoredGame.origin, func.count())
        .where(StoredGame.status == GameStatus.REJECTED)
        .group_by(StoredGame.config_key, StoredGame.origin)).all())
    queues = session.scalars(select(PendingQueue).order_by(PendingQueue.config_key,
                                                            PendingQueue.origin)).all()
    if not queues:
        yield "no games stored yet"
    now = datetime.now(UTC)
    for queue in queues:
        name = f"{queue.config_key}/{queue.origin}"
        waited = "" if queue.oldest_pending_at is None else \
            f", oldest waiting {(now - utc(queue.oldest_pending_at)).total_seconds():.0f} s"
        yield (f"{name:24} pending {queue.pending_games} game(s) / {queue.pending_samples} "
               f"sample(s){waited}; {queue.shards_written} shard(s), {queue.games_sharded} "
               f"game(s) sharded, {int(samples.get(name) or 0)} sample(s) written, "
               f"{rejected.get(name, 0)} rejected")


def rejected_games(session: Session) -> list[tuple[str, str, str]]:
    """(game id, config, reason) of every rejected game, oldest first."""
    rows = session.execute(select(StoredGame.game_id, StoredGame.config_key, StoredGame.reason)
                           .where(StoredGame.status == GameStatus.REJECTED)
                           .order_by(StoredGame.id)).all()
    return [(row.game_id, row.config_key, row.reason or "") for row in rows]
