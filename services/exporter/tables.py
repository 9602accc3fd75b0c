"""The exporter's own tables: the game store, the queue totals and the shard manifests.

Every game the exporter accepts is stored once (``games``, unique ``game_id``) with the
bytes it came as, so a shard can be rebuilt from the store alone after a kill, and the
history can be exported again when the encoder changes. A game is ``pending`` until the
transaction that records its shard (``shards``), marks it ``sharded`` with that shard's
id and enqueues ``ShardWritten`` in the outbox: one transaction, so a game is in exactly
one shard, ever. A game whose record turns out not to replay when its shard is built is
``rejected`` (with the reason) instead, and dead-lettered.

Games queue per config and origin (self-play or imported files, never mixed in one shard);
``queue_totals`` counts, per queue, the games that went into shards so far (the window
sequence ``ShardWritten.window_end_sequence`` counts). Declared on the service's own base
(not the library's), migrated by ``services/exporter/migrations``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only


class Base(DeclarativeBase):
    """The exporter's tables."""


class Origin:
    """Where a game came from; shards hold games of one origin only."""

    SELFPLAY = "selfplay"
    """A ``GameCompleted`` event (search policy targets)."""
    IMPORT = "import"
    """A GameRecord file (``ringrift exporter import``; policy target: the move played)."""


class GameStatus:
    PENDING = "pending"
    SHARDED = "sharded"
    """In the shard named by ``shard_id`` (a truncated game there gives no samples)."""
    NO_SAMPLES = "no_samples"
    """Its window gave no samples at all (only truncated games), so no shard was written."""
    REJECTED = "rejected"
    """Its record did not replay when its shard was built; ``reason`` says why."""


class StoredGame(Base):
    """One game, stored once: what it came as, and where its samples went."""

    __tablename__ = "games"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    """Arrival order: shards take a queue's pending games in this order."""
    game_id: Mapped[str] = mapped_column(String(128), unique=True)
    config_key: Mapped[str] = mapped_column(String(32))
    origin: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(64))
    """The ``GameCompleted`` event's id ('' for imported games)."""
    content_encoding: Mapped[str] = mapped_column(String(64))
    """How ``content`` is written: ``envelope`` (the event as received) or
    ``game-record-json+zlib`` (an imported GameRecord)."""
    content: Mapped[bytes] = mapped_column(LargeBinary)
    record_sha256: Mapped[str] = mapped_column(String(64))
    """sha256 of the game's record (the event's ``record`` bytes, an import's JSON): the
    same game sent again under another event id has the same one."""
    num_moves: Mapped[int] = mapped_column(Integer)
    num_samples: Mapped[int] = mapped_column(Integer)
    """Samples the game gives: its searched positions (0 for a truncated game)."""
    seat_model_ids: Mapped[str] = mapped_column(Text)
    """The model of each seat, as a JSON list."""
    produced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When the game's event was produced (import: when it was imported)."""
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    shard_id: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(Text)
    """Why a rejected game was set aside."""

    __table_args__ = (
        Index("ix_games_queue", "config_key", "origin", "status", "id"),
        Index("ix_games_shard", "shard_id"),
    )


class QueueTotals(Base):
    """Per config and origin: the games taken into shards so far (the window sequence).

    What is *pending* is not kept here: it is the queue's ``pending`` games in ``games``
    (:func:`services.exporter.games.pending`), so it can never disagree with them.
    """

    __tablename__ = "queue_totals"

    config_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    origin: Mapped[str] = mapped_column(String(16), primary_key=True)
    games_sharded: Mapped[int] = mapped_column(BigInteger)
    """Games taken into this queue's shards so far (rejected ones included)."""
    shards_written: Mapped[int] = mapped_column(Integer)


class Shard(Base):
    """One written shard: where it is, what it holds, the window of games it closes."""

    __tablename__ = "shards"

    shard_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    config_key: Mapped[str] = mapped_column(String(32))
    origin: Mapped[str] = mapped_column(String(16))
    uri: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    num_samples: Mapped[int] = mapped_column(BigInteger)
    num_games: Mapped[int] = mapped_column(Integer)
    encoder_version: Mapped[int] = mapped_column(Integer)
    source_model_ids: Mapped[str] = mapped_column(Text)
    """The models whose games are in it, as a JSON list (the uniform evaluator left out)."""
    first_game_id: Mapped[str] = mapped_column(String(128))
    last_game_id: Mapped[str] = mapped_column(String(128))
    window_end_sequence: Mapped[int] = mapped_column(BigInteger)
    trigger: Mapped[str] = mapped_column(String(16))
    """Why it was written: ``samples`` (``--shard-samples`` reached), ``max_delay`` or ``import``."""
    oldest_produced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    newest_produced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_shards_config", "config_key", "origin", "window_end_sequence"),)


def utc(moment: datetime) -> datetime:
    """A time read back from the database, timezone-aware (SQLite returns naive UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
