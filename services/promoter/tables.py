"""The promoter's own tables: the model registry, its history, the evaluations, access.

Declared on the service's own declarative base (migrated by ``services/promoter/migrations/``).
``config_state`` has one row per config and is the lock every change of that config takes
first (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers are serialised by
``BEGIN IMMEDIATE``), so two decisions about one config never interleave: its
``revision`` is the one ``CurrentModel.revision`` publishes and the version a REST
caller may expect. ``models`` holds each registered model and its lifecycle state;
``transitions`` every state change (who, why, on what evaluation); ``evaluations`` what
the evaluator reported, and what the promoter decided from it. ``api_tokens`` keeps
only sha256 hashes of the bearer tokens; ``audit_log`` every manual action.
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
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = String(64)
"""Model, evaluation and event ids (model ids are ``rr-`` + 24 hex digits today)."""
CONFIG = String(32)
WHEN = DateTime(timezone=True)
SERIAL = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER only


class Base(DeclarativeBase):
    """The promoter's tables."""


class ConfigState(Base):
    """Per config: the current model, its revision, and when each stage last produced."""

    __tablename__ = "config_state"

    config_key: Mapped[str] = mapped_column(CONFIG, primary_key=True)
    current_model_id: Mapped[str | None] = mapped_column(ID)
    revision: Mapped[int] = mapped_column(BigInteger, default=0)
    """0 before the first promotion; +1 with every change of the current model."""
    latest_candidate_id: Mapped[str | None] = mapped_column(ID)
    latest_evaluation_id: Mapped[str | None] = mapped_column(ID)
    last_shard_at: Mapped[datetime | None] = mapped_column(WHEN)
    last_candidate_at: Mapped[datetime | None] = mapped_column(WHEN)
    last_evaluation_started_at: Mapped[datetime | None] = mapped_column(WHEN)
    last_evaluation_at: Mapped[datetime | None] = mapped_column(WHEN)
    last_promotion_at: Mapped[datetime | None] = mapped_column(WHEN)

    def stage_times(self) -> list[tuple[str, datetime | None]]:
        """When each stage last produced for this config (from the events consumed, and the
        promoter's own promotions), in pipeline order."""
        return [("export", self.last_shard_at), ("training", self.last_candidate_at),
                ("evaluation_start", self.last_evaluation_started_at),
                ("evaluation", self.last_evaluation_at), ("promotion", self.last_promotion_at)]


class Model(Base):
    """A registered model (from its ``CandidateReady``) and its lifecycle state."""

    __tablename__ = "models"

    model_id: Mapped[str] = mapped_column(ID, primary_key=True)
    config_key: Mapped[str] = mapped_column(CONFIG, index=True)
    state: Mapped[str] = mapped_column(String(16))
    parent_model_id: Mapped[str] = mapped_column(ID, default="")
    architecture: Mapped[str] = mapped_column(String(64), default="")
    encoder_version: Mapped[int] = mapped_column(Integer, default=0)
    train_step: Mapped[int] = mapped_column(BigInteger, default=0)
    samples_seen: Mapped[int] = mapped_column(BigInteger, default=0)
    losses: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    shard_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    weights_uri: Mapped[str] = mapped_column(Text)
    weights_sha256: Mapped[str] = mapped_column(String(64))
    weights_size: Mapped[int] = mapped_column(BigInteger, default=0)
    trained_at: Mapped[datetime] = mapped_column(WHEN)
    """When the trainer published it (the event's produced-at)."""
    registered_at: Mapped[datetime] = mapped_column(WHEN)
    state_changed_at: Mapped[datetime] = mapped_column(WHEN)
    rating: Mapped[float | None] = mapped_column(Float)
    rating_lower: Mapped[float | None] = mapped_column(Float)
    rating_upper: Mapped[float | None] = mapped_column(Float)
    rating_confidence: Mapped[float | None] = mapped_column(Float)
    rated_at: Mapped[datetime | None] = mapped_column(WHEN)
    """When the evaluation the rating comes from completed (the match log's time)."""
    candidate_event_id: Mapped[str] = mapped_column(ID)

    __table_args__ = (Index("ix_models_config_state", "config_key", "state"),)


class Transition(Base):
    """One change of a model's state: the registry's history."""

    __tablename__ = "transitions"

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    model_id: Mapped[str] = mapped_column(ID, ForeignKey("models.model_id"), index=True)
    config_key: Mapped[str] = mapped_column(CONFIG, index=True)
    from_state: Mapped[str] = mapped_column(String(16))
    """Empty for the registration itself."""
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(WHEN)
    cause: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    evaluation_id: Mapped[str] = mapped_column(ID, default="")
    revision: Mapped[int] = mapped_column(BigInteger)
    """The config's revision after this change."""


class Evaluation(Base):
    """An evaluation the evaluator reported (started, then completed) and what came of it."""

    __tablename__ = "evaluations"

    evaluation_id: Mapped[str] = mapped_column(ID, primary_key=True)
    model_id: Mapped[str] = mapped_column(ID, index=True)
    config_key: Mapped[str] = mapped_column(CONFIG)
    opponent_model_id: Mapped[str] = mapped_column(ID, default="")
    started_at: Mapped[datetime | None] = mapped_column(WHEN)
    completed_at: Mapped[datetime | None] = mapped_column(WHEN)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(32), default="")
    statistic: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text, default="")
    games_played: Mapped[int] = mapped_column(Integer, default=0)
    elo: Mapped[float | None] = mapped_column(Float)
    elo_lower: Mapped[float | None] = mapped_column(Float)
    elo_upper: Mapped[float | None] = mapped_column(Float)
    elo_confidence: Mapped[float | None] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(16), default="")
    """promoted, rejected or ignored once decided; empty while running or waiting for
    the model's CandidateReady."""
    decision_reason: Mapped[str] = mapped_column(Text, default="")


class ApiToken(Base):
    """A bearer token of the REST API; only its sha256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(WHEN)
    revoked_at: Mapped[datetime | None] = mapped_column(WHEN)
    last_used_at: Mapped[datetime | None] = mapped_column(WHEN)

    __table_args__ = (
        # One live token per name: the name is who acts in the audit log and the events.
        Index("ux_api_tokens_live_name", "name", unique=True,
              postgresql_where=text("revoked_at IS NULL"),
              sqlite_where=text("revoked_at IS NULL")),
    )


class AuditEntry(Base):
    """A manual action: who did what, when and why."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(WHEN, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    config_key: Mapped[str] = mapped_column(CONFIG, default="")
    model_id: Mapped[str] = mapped_column(ID, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
