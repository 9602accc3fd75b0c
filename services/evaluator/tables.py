"""The evaluator's own tables (migrated by ``services/evaluator/migrations/``).

- ``candidates``: every candidate announced (its weights), so a later evaluation can play
  the config's first promoted model as a baseline;
- ``evaluations``: one row per (candidate, gate opponent), numbered per config (the number
  decides when the baselines are due), with its state and decision;
- ``match_games``: the match log, one row per game played, keyed by (evaluation, opponent,
  game index): a killed match resumes from it, and every config's ratings are refitted
  from all of it;
- ``first_promotions``: each config's first promoted model (the ladder's third rung).

Declared on the service's own declarative base, so its MetaData is its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = String(64)
"""Model ids (sha256 hex) and player ids (``random``, ``heuristic``, ``uniform``)."""


class Base(DeclarativeBase):
    """The evaluator's tables."""


class Candidate(Base):
    """A candidate model as ``CandidateReady`` announced it."""

    __tablename__ = "candidates"

    model_id: Mapped[str] = mapped_column(ID, primary_key=True)
    config_key: Mapped[str] = mapped_column(String(32))
    weights_uri: Mapped[str] = mapped_column(Text)
    weights_sha256: Mapped[str] = mapped_column(String(64))
    weights_size: Mapped[int] = mapped_column(BigInteger)
    architecture: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Evaluation(Base):
    """One evaluation: a candidate against the config's current model (and the baselines)."""

    __tablename__ = "evaluations"

    evaluation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    config_key: Mapped[str] = mapped_column(String(32))
    number: Mapped[int] = mapped_column(Integer)
    """1-based count of this config's evaluations; the baselines are due by it."""
    model_id: Mapped[str] = mapped_column(ID)
    opponent_model_id: Mapped[str] = mapped_column(ID)
    baselines: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))
    """``queued`` (chosen), ``playing`` (models loaded, started published), ``done``, ``failed``."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verdict: Mapped[str | None] = mapped_column(String(16))
    passed: Mapped[bool | None] = mapped_column(Boolean)
    llr: Mapped[float | None] = mapped_column(Float)
    games: Mapped[int] = mapped_column(Integer, default=0)
    """Games played in all (gate and baselines)."""
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    """What the match depends on, fixed when it is chosen: the candidate, the opponent and
    the baselines (ids and weights), the gate's settings, simulations, move cap, sizes."""
    error: Mapped[str | None] = mapped_column(Text)
    """Why it failed (state ``failed``: a model that cannot be loaded)."""
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the promoter's decision on it was seen (a lifecycle event naming it)."""

    __table_args__ = (UniqueConstraint("config_key", "number", name="uq_evaluations_number"),)


class MatchGame(Base):
    """One finished game of an evaluation's match: the match log."""

    __tablename__ = "match_games"

    evaluation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    opponent_id: Mapped[str] = mapped_column(ID, primary_key=True)
    """Who the candidate played in this match: the gate's opponent or a baseline."""
    game_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    config_key: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    """``gate`` or ``baseline``."""
    round: Mapped[int] = mapped_column(Integer)
    candidate_seat: Mapped[int] = mapped_column(Integer)
    players: Mapped[list[Any]] = mapped_column(JSON)
    """Player id per seat."""
    ranking: Mapped[list[Any]] = mapped_column(JSON)
    """Competition rank per seat (1 = best)."""
    length: Mapped[int] = mapped_column(Integer)
    truncated: Mapped[bool] = mapped_column(Boolean)
    played_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_match_games_config", "config_key"),)


class FirstPromotion(Base):
    """The first model promoted in a config (a fixed anchor of its rating curve)."""

    __tablename__ = "first_promotions"

    config_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_id: Mapped[str] = mapped_column(ID)
    promoted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
