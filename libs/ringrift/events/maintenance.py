"""The consumer loop's housekeeping: processed ids and finished jobs past their retention.

About hourly (and at the first turn) the loop deletes its group's processed ids older
than their retention (:func:`ringrift.events.idempotency.retention_for`: as long as the
consumed topics keep their records) and its finished jobs older than
``outbox_retention_hours`` (a finished job's input is a processed id, so it never starts
again). A failure (the database away) is logged and tried again at the next interval. The
relay prunes the outbox itself.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from ringrift.events import jobstore
from ringrift.events.idempotency import prune_processed

log = logging.getLogger(__name__)
INTERVAL_S = 3600.0


class Pruner:
    """Prunes one group's processed ids (``retention`` None: never) and finished jobs."""

    def __init__(self, engine: Engine, group: str, retention: timedelta | None,
                 jobs_retention: timedelta) -> None:
        self._engine = engine
        self._group = group
        self.retention = retention
        self.jobs_retention = jobs_retention
        self._next = 0.0

    def maybe_prune(self) -> None:
        """Prune if due."""
        if time.monotonic() < self._next:
            return
        self._next = time.monotonic() + INTERVAL_S
        now = datetime.now(UTC)
        try:
            ids = (prune_processed(self._engine, self._group, now - self.retention)
                   if self.retention is not None else 0)
            jobs = jobstore.prune_finished(self._engine, self._group, now - self.jobs_retention)
        except Exception as error:
            log.warning("pruning processed ids and finished jobs failed: %s", error)
            return
        if ids or jobs:
            log.info("pruned %d processed id(s) older than %s and %d finished job(s)", ids,
                     self.retention, jobs, extra={"group": self._group})
