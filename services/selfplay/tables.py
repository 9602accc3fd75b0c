"""The selfplay service's own table: each replica's durable game sequence.

A game's id is ``<replica id>-<sequence>``, and the sequence number is taken from this row
in the very transaction that puts the game's ``GameCompleted`` into the outbox. So a
number is used up exactly when a game is published: a kill before the commit loses the
game and its number together, and a restarted replica continues after the last number it
published, never reusing one. Replicas have their own rows (their ``--instance-id``), so
they never collide, even when they share a database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The selfplay service's tables."""


class GameSequence(Base):
    """The next game number of one replica."""

    __tablename__ = "game_sequences"

    replica_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    next_sequence: Mapped[int] = mapped_column(BigInteger)
    """The number the replica's next published game gets (0 for the first)."""
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now())
