"""The curriculum's own tables (migrated by ``services/curriculum/migrations/``).

``configs``: per config, its current model, when that was promoted, and the ratings of
its latest evaluation. ``evaluations``: every evaluation seen (once; its id is the
key). ``rating_samples``: the rating of the config's current model over time, the
velocity's history. ``weight_publications``: every CurriculumWeights published, with
its inputs (the message itself), by revision.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The curriculum's tables."""


class ConfigState(Base):
    __tablename__ = "configs"

    config_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(128))
    """The current model ("" before the first promotion)."""
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    evaluations: Mapped[int] = mapped_column(Integer)
    ratings: Mapped[str] = mapped_column(Text)
    """The latest evaluation's ratings, JSON ``{player_id: [elo, stderr]}``."""


class EvaluationSeen(Base):
    __tablename__ = "evaluations"

    evaluation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    config_key: Mapped[str] = mapped_column(String(32))
    model_id: Mapped[str] = mapped_column(String(128))
    """The candidate."""
    elo: Mapped[float] = mapped_column(Float)
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RatingSample(Base):
    """The rating of a config's current model at one time (after an evaluation or a
    promotion)."""

    __tablename__ = "rating_samples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    config_key: Mapped[str] = mapped_column(String(32))
    model_id: Mapped[str] = mapped_column(String(128))
    elo: Mapped[float] = mapped_column(Float)
    stderr: Mapped[float] = mapped_column(Float)
    sampled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))
    """``evaluation`` or ``promotion``."""

    __table_args__ = (Index("ix_rating_samples_config", "config_key", "sampled_at"),)


class WeightPublication(Base):
    __tablename__ = "weight_publications"

    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    policy: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    """The CurriculumWeights published, serialized (weights and their inputs)."""
    cause: Mapped[str] = mapped_column(String(64))
    """The event id that led to it, or ``timer``."""
