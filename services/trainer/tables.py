"""The trainer's own tables: the window table of shards, and one row per training run.

``shards`` holds every ``ShardWritten`` the trainer received, once (unique ``shard_id``),
in arrival order (``id``): per config that is the exporter's order, so "the newest shards"
are the highest ids. A shard can be *unusable* (its artifact is missing or damaged, found
when a run fetched it) or *spent* (it was in the window of a candidate the evaluator
rejected: the feedback rule keeps it out of later windows, see ``feedback.py``).

``runs`` holds one row per training run, keyed by its job's id (the backbone's ``jobs``
table has its state, checkpoint and progress): what triggered it, the window and parent it
was given, the step each start of it began from, and, once published, the candidate and
what the evaluator said about it. Everything per config (samples since the last run, the
latest candidate, seconds spent on rejected candidates) is derived from these two tables.
Declared on the service's own base, migrated by ``services/trainer/migrations``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only


class Base(DeclarativeBase):
    """The trainer's tables."""


class RunState:
    PENDING = "pending"
    """Recorded with its job; not started yet."""
    DEFERRED = "deferred"
    """Waiting: the cluster status defers training."""
    TRAINING = "training"
    PUBLISHED = "published"
    """Its candidate is in the outbox (``CandidateReady``), in the transaction that ended the job."""


class Verdict:
    PASSED = "passed"
    REJECTED = "rejected"


class Shard(Base):
    """One training shard the exporter wrote, as ``ShardWritten`` described it."""

    __tablename__ = "shards"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    """Arrival order (per config, the exporter's order)."""
    shard_id: Mapped[str] = mapped_column(String(200), unique=True)
    config_key: Mapped[str] = mapped_column(String(32))
    uri: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    num_samples: Mapped[int] = mapped_column(BigInteger)
    num_games: Mapped[int] = mapped_column(Integer)
    encoder_version: Mapped[int] = mapped_column(Integer)
    source_model_ids: Mapped[list[str]] = mapped_column(JSON)
    """Models whose games it holds; empty: uniform play (counts towards the window only up
    to its minimum, see ``ringrift.training.window_size``)."""
    event_id: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """The ``ShardWritten`` event's production time (the start of the trigger latency)."""
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    unusable: Mapped[str | None] = mapped_column(Text)
    """Why no run can use it (artifact missing or damaged), or None."""
    spent_by: Mapped[str | None] = mapped_column(String(64))
    """The rejected run whose window held it first, or None (see ``feedback.py``)."""

    __table_args__ = (Index("ix_shards_config_id", "config_key", "id"),)


class Run(Base):
    """One training run: one job, at most one candidate."""

    __tablename__ = "runs"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """The id of its job in the backbone's ``jobs`` table."""
    config_key: Mapped[str] = mapped_column(String(32))
    number: Mapped[int] = mapped_column(Integer)
    """1 for the config's first run, then 2, 3, ..."""
    state: Mapped[str] = mapped_column(String(16))
    samples_total: Mapped[int] = mapped_column(BigInteger)
    """The config's samples received when the run was triggered (the next run waits for
    ``--samples-per-candidate`` more)."""
    shard_ids: Mapped[list[str]] = mapped_column(JSON)
    """Its window, newest first."""
    window_rows: Mapped[int] = mapped_column(BigInteger)
    desired_rows: Mapped[int] = mapped_column(BigInteger)
    usable_rows: Mapped[int] = mapped_column(BigInteger)
    parent_model_id: Mapped[str | None] = mapped_column(String(64))
    parent_uri: Mapped[str | None] = mapped_column(Text)
    parent_sha256: Mapped[str | None] = mapped_column(String(64))
    trigger_shard_id: Mapped[str] = mapped_column(String(200))
    trigger_published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    triggered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When training first started (after any deferral)."""
    start_steps: Mapped[list[int]] = mapped_column(JSON, default=list)
    """The step each start of the run began from: [0] unless it was resumed."""
    batch_size: Mapped[int | None] = mapped_column(Integer)
    steps: Mapped[int | None] = mapped_column(Integer)
    model_id: Mapped[str | None] = mapped_column(String(64))
    weights_uri: Mapped[str | None] = mapped_column(Text)
    weights_sha256: Mapped[str | None] = mapped_column(String(64))
    train_seconds: Mapped[float | None] = mapped_column(Float)
    """Training seconds of the whole run, across resumes."""
    train_step: Mapped[int | None] = mapped_column(BigInteger)
    samples_seen: Mapped[int | None] = mapped_column(BigInteger)
    losses: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verdict: Mapped[str | None] = mapped_column(String(16))
    """The evaluator's first decision on its candidate: passed or rejected (None: none yet)."""
    evaluation_id: Mapped[str | None] = mapped_column(String(64))
    evaluated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("config_key", "number", name="uq_runs_config_number"),
        Index("ix_runs_model_id", "model_id"),
    )
