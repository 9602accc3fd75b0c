"""The example service's own tables (migrated by ``services/example/migrations/``).

Declared on the service's own declarative base, not the library's: each service's
tables live in its own database and its own MetaData, so two services may both have a
table called ``games`` and a test process may import both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The example service's tables."""


class GameCount(Base):
    """Games seen per config, and the model that was current for the last one."""

    __tablename__ = "game_counts"

    config_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    games: Mapped[int] = mapped_column(Integer)
    last_game_id: Mapped[str] = mapped_column(String(64))
    current_model_id: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now())
