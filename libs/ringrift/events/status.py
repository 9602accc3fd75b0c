"""What a consumer loop reports about itself: for readiness, status views and metrics.

:meth:`ringrift.events.consumer.ConsumerLoop.status` returns a :class:`LoopStatus`, a
snapshot safe to take from any thread (the runtime's HTTP server does). Readiness is
``status.outage is None``: an outage (database, broker or a store away) is being retried
and the service should not get traffic meanwhile; liveness is ``last_poll_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ringrift.events.jobs import JobStatus
from ringrift.events.relay import RelayStatus

TopicPartitionKey = tuple[str, int]


@dataclass(frozen=True)
class Outage:
    """Something outside the records stops the loop; it retries without limit meanwhile."""

    reason: str
    """The latest error, one line (``OperationalError: connection refused ...``)."""
    since: datetime
    partitions: tuple[TopicPartitionKey, ...]
    """The partitions waiting for it (empty for a broker-wide problem)."""


@dataclass(frozen=True)
class LoopStatus:
    started: bool
    closed: bool
    assigned: tuple[TopicPartitionKey, ...]
    paused: tuple[TopicPartitionKey, ...]
    """Partitions not fetched now: waiting for a job, a retry, an outage, or a full queue."""
    outage: Outage | None
    last_poll_at: datetime | None
    """When the loop last turned (liveness)."""
    last_progress_at: datetime | None
    """When a record was last finished or a job last reported progress."""
    jobs: tuple[JobStatus, ...]
    records_in_hand: int
    """Records polled and not yet finished (queued behind a job, a retry or an outage)."""
    rebalances: int
    """Assignment changes seen (assigned, revoked or lost), the first assignment included."""
    relay: RelayStatus | None
