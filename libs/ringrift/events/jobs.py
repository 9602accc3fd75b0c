"""Long work (training, matches) as durable jobs: the table, the request and the context.

A handler must return long before ``max.poll.interval.ms``, and no database transaction
may stay open for minutes. So a handler that starts long work returns a
:class:`JobRequest` among its outputs; the consumer loop records the job in the ``jobs``
table in the handler's transaction (its id derived from the input event, so a re-run
records the same job), pauses the partition the input came from (later events of that
config wait: order per config holds) and keeps polling, while a worker thread
(:mod:`ringrift.events.jobrunner`) runs the job function registered for the request's
``kind``. The job's outputs leave through the outbox in the transaction that marks it done.

A job function gets a :class:`JobContext`: its parameters and input event, a checkpoint
to save and load (small bytes in the row; large state goes to the artifact store and the
checkpoint names it), progress reporting and cooperative cancellation. A job interrupted
by a kill is resumed from its checkpoint when its partition is assigned again, to this or
another replica, once its lease (``job_lease_s`` after the last heartbeat) has run out; a
job cancelled cooperatively (SIGTERM, partition revoked) is released at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from ringrift.errors import RingriftError
from ringrift.events.envelope import Event
from ringrift.events.topics import TopicSpec
from ringrift.storage.database import Base


class JobState:
    PENDING = "pending"
    """Recorded, or released by a cancelled owner: the next owner of its partition runs it."""
    RUNNING = "running"
    """Claimed by ``owner`` (``run_token``), alive while ``heartbeat_at`` is fresh."""
    DONE = "done"
    FAILED = "failed"
    """Gave up after ``max_attempts`` (or poison); the input is in the dead-letter topic."""


class JobRow(Base):
    """One long-work job of a consumer group, tied to the record that asked for it."""

    __tablename__ = "jobs"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    consumer_group: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    topic: Mapped[str] = mapped_column(String(249))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    source_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    source_value: Mapped[bytes | None] = mapped_column(LargeBinary)
    source_timestamp_ms: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Failed runs so far (cancellations and outages do not count)."""
    starts: Mapped[int] = mapped_column(Integer, default=0)
    run_token: Mapped[str | None] = mapped_column(String(36))
    owner: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checkpoint: Mapped[bytes | None] = mapped_column(LargeBinary)
    checkpoint_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    progress: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_jobs_partition", "consumer_group", "topic", "partition", "state"),
    )


@dataclass(frozen=True)
class JobRequest:
    """Returned by a handler (among its outputs) to run ``kind`` with ``params`` as a job.

    ``params`` must be JSON-serialisable. ``name`` tells apart two jobs of one kind from one
    input (rare); the job id is derived from the input's id, the kind and the name.
    """

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""


class JobCancelled(RingriftError):
    """Raised by :meth:`JobContext.check_cancelled`: stop now, the job resumes later."""


class JobLost(RingriftError):
    """Another owner took the job over (our lease ran out); our run must not finish it."""


@dataclass(frozen=True)
class JobStatus:
    """One job this process owns, for status views."""

    job_id: str
    kind: str
    topic: str
    partition: int
    state: str
    """``queued``, ``running``, ``retrying`` or ``cancelling``."""
    progress: float | None
    message: str
    started_at: datetime | None
    attempt: int


class JobContext:
    """What a job function gets: its inputs, checkpoint, progress and cancellation.

    Checkpoints are written at once (their own short transaction, guarded by the run's
    token: a run that lost the job raises :class:`JobLost`).
    """

    def __init__(self, row: JobRow, event: Event[Message], *, attempt: int,
                 save: Callable[[bytes], None], cancelled: threading.Event) -> None:
        self.job_id = row.job_id
        self.kind = row.kind
        self.params: Mapping[str, Any] = dict(row.params or {})
        self.event = event
        """The input event that asked for the job (for ``follow_up`` outputs)."""
        self.attempt = attempt
        """1 on the first run; higher when resumed or retried."""
        self._checkpoint = row.checkpoint
        self._save = save
        self._cancelled = cancelled
        self.progress: float | None = row.progress
        self.message = row.message or ""
        self.effects: list[Callable[[Session], None]] = []
        self.progressed_at = datetime.now(UTC)

    @property
    def cancelled(self) -> bool:
        """True once the job should stop (SIGTERM, partition revoked, job lost)."""
        return self._cancelled.is_set()

    def check_cancelled(self) -> None:
        """Raise :class:`JobCancelled` if the job should stop (save a checkpoint first)."""
        if self._cancelled.is_set():
            raise JobCancelled(f"job {self.job_id} cancelled")

    def load_checkpoint(self) -> bytes | None:
        """The last saved checkpoint (from an earlier, interrupted run too), or None."""
        return self._checkpoint

    def save_checkpoint(self, data: bytes) -> None:
        """Make ``data`` the job's checkpoint, durably, now."""
        self._save(data)
        self._checkpoint = data

    def report_progress(self, fraction: float | None, message: str = "") -> None:
        """Note how far the job is (0..1, or None if unknown); shown in status, stored."""
        self.progress = None if fraction is None else min(max(float(fraction), 0.0), 1.0)
        self.message = message
        self.progressed_at = datetime.now(UTC)

    def add_effect(self, effect: Callable[[Session], None]) -> None:
        """Run ``effect(session)`` in the transaction that marks the job done."""
        self.effects.append(effect)


Output = tuple[TopicSpec, Event[Message]]
JobFunction = Callable[[JobContext], Iterable[Output] | None]
"""Runs one job; returns its outputs (published through the outbox when it is done)."""
