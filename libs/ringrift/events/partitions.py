"""Per-partition state of a consumer loop: the queue of polled records and why it waits.

Records are polled into the queue of their partition and handled from its head, so the
order within a partition (a config) is the order of the topic. A partition waits, and is
paused at the broker while the consumer keeps polling (so it stays in the group), when:

* ``check``: it was just assigned, and the loop must first look for an unfinished job of
  its records (or another owner's job it must wait for);
* ``job``: a job for one of its records runs; the records behind it wait;
* ``retry``: its head record failed and waits for the next attempt (bounded backoff);
* ``outage``: the database, broker or a store is away; retried without limit.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ringrift.events.failures import describe
from ringrift.events.handling import Item

log = logging.getLogger(__name__)
CHECK, READY, JOB, RETRY, OUTAGE = "check", "ready", "job", "retry", "outage"


@dataclass
class PartitionState:
    topic: str
    partition: int
    queue: deque[Item] = field(default_factory=deque)
    state: str = CHECK
    retry_at: float = 0.0
    """Monotonic time of the next try (``check``, ``retry``, ``outage``)."""
    failures: int = 0
    """Consecutive outage failures, for the backoff."""
    reason: str | None = None
    """What it waits for, for the status view."""
    since: datetime | None = None
    job_id: str | None = None
    next_offset: int | None = None
    """The offset after the last finished record (for the lag)."""

    @property
    def key(self) -> tuple[str, int]:
        return self.topic, self.partition

    def due(self, now: float) -> bool:
        return now >= self.retry_at

    def ready(self, now: float) -> bool:
        """Records can be handled now (never while a job of this partition is unfinished,
        even when its dead letter waits for an outage to pass)."""
        return bool(self.queue) and self.job_id is None and (
            self.state == READY or (self.state in (RETRY, OUTAGE) and self.due(now)))

    def wait(self, state: str, reason: str | None, delay_s: float) -> None:
        """Wait in ``state`` for ``delay_s`` seconds (then the loop tries again)."""
        if self.state != state or self.since is None:
            self.since = datetime.now(UTC)
        self.state, self.reason = state, reason
        self.retry_at = time.monotonic() + delay_s

    def outage(self, error: BaseException | str, initial_s: float, max_s: float) -> None:
        """Wait out an outage: retried with bounded backoff, without limit."""
        reason = error if isinstance(error, str) else describe(error)
        self.failures += 1
        if self.state != OUTAGE:
            log.warning("outage, retrying without limit: %s", reason,
                        extra={"topic": self.topic, "partition": self.partition})
        self.wait(OUTAGE, reason, backoff(initial_s, max_s, self.failures))

    def recover(self) -> None:
        """Back to handling: what it waited for has passed."""
        self.state, self.reason, self.since, self.failures = READY, None, None, 0
        self.retry_at = 0.0


def backoff(initial_s: float, max_s: float, failures: int) -> float:
    """``initial_s`` doubled per failure after the first, at most ``max_s``."""
    return float(min(initial_s * 2 ** max(failures - 1, 0), max_s))
