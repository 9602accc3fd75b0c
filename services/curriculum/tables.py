"""The curriculum's own tables (migrated by ``services/curriculum/migrations/``): its log.

``evaluations``: every evaluation seen, once (its id is the key), with the ratings of
the config's match log refitted after it. ``promotions``: every promotion (a rollback
ends in one too). The weights' inputs are a function of this log, recomputed from it,
so the order in which the two topics' events arrive does not matter.
``weight_publications``: every CurriculumWeights published, with its inputs (the message
itself), by revision.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The curriculum's tables."""


class EvaluationSeen(Base):
    __tablename__ = "evaluations"

    evaluation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    config_key: Mapped[str] = mapped_column(String(32))
    model_id: Mapped[str] = mapped_column(String(128))
    """The candidate."""
    elo: Mapped[float] = mapped_column(Float)
    """The candidate's rating."""
    ratings: Mapped[str] = mapped_column(Text)
    """Every rated player after it, JSON ``{player_id: [elo, stderr]}``."""
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_evaluations_config", "config_key", "completed_at"),)


class Promotion(Base):
    __tablename__ = "promotions"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    config_key: Mapped[str] = mapped_column(String(32))
    model_id: Mapped[str] = mapped_column(String(128))
    promoted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_promotions_config", "config_key", "promoted_at"),)


class WeightPublication(Base):
    __tablename__ = "weight_publications"

    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    policy: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    """The CurriculumWeights published, serialized (weights and their inputs)."""
    cause: Mapped[str] = mapped_column(String(64))
    """The event id that led to it, or ``timer``."""
