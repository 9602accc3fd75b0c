"""The exporter's queues and shards as a person reads them (``ringrift exporter status``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.exporter.games import pending
from services.exporter.tables import GameStatus, QueueTotals, Shard, StoredGame


def status_lines(session: Session) -> Iterator[str]:
    """One line per config and origin: pending games/samples, oldest wait, shards, games."""
    written = {(row[0], row[1]): int(row[2] or 0) for row in session.execute(
        select(Shard.config_key, Shard.origin, func.sum(Shard.num_samples))
        .group_by(Shard.config_key, Shard.origin))}
    rejected = {(row[0], row[1]): int(row[2]) for row in session.execute(
        select(StoredGame.config_key, StoredGame.origin, func.count())
        .where(StoredGame.status == GameStatus.REJECTED)
        .group_by(StoredGame.config_key, StoredGame.origin))}
    totals = {(row.config_key, row.origin): row for row in session.scalars(select(QueueTotals))}
    waiting = pending(session)
    keys = sorted(set(totals) | set(waiting))
    if not keys:
        yield "no games stored yet"
    now = datetime.now(UTC)
    for key in keys:
        queue, total = waiting.get(key), totals.get(key)
        wait = "" if queue is None else \
            f", oldest waiting {(now - queue.oldest_stored_at).total_seconds():.0f} s"
        yield (f"{key[0] + '/' + key[1]:24} pending {queue.games if queue else 0} game(s) / "
               f"{queue.samples if queue else 0} sample(s){wait}; "
               f"{total.shards_written if total else 0} shard(s), "
               f"{total.games_sharded if total else 0} game(s) sharded, "
               f"{written.get(key, 0)} sample(s) written, {rejected.get(key, 0)} rejected")


def rejected_games(session: Session) -> list[tuple[str, str, str]]:
    """(game id, config, reason) of every rejected game, oldest first."""
    rows = session.execute(select(StoredGame.game_id, StoredGame.config_key, StoredGame.reason)
                           .where(StoredGame.status == GameStatus.REJECTED)
                           .order_by(StoredGame.id)).all()
    return [(row.game_id, row.config_key, row.reason or "") for row in rows]
