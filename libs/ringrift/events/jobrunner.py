"""Worker threads that run claimed jobs beside the consumer loop, and keep their leases.

The consumer loop claims a job (:func:`ringrift.events.jobstore.claim`) and submits it;
a worker runs its function, retrying outages without limit and other errors up to
``max_attempts`` (from the checkpoint each time), then finishes it in one transaction
(effects, outputs into the outbox, the row marked done, guarded by the run's token).
Each end is reported back to the loop through :attr:`JobRunner.outcomes`, which the loop
drains on its own thread: it resumes the partition, or dead-letters the input of a job
that failed. A keeper thread refreshes the leases (and stored progress) of owned jobs.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Engine

from ringrift.events import envelope, jobstore, outbox
from ringrift.events.failures import Failure, classify, describe
from ringrift.events.jobs import (
    JobCancelled,
    JobContext,
    JobFunction,
    JobLost,
    JobRow,
    JobStatus,
)
from ringrift.events.settings import KafkaSettings
from ringrift.storage.database import session_scope

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    DONE = "done"
    CANCELLED = "cancelled"
    """Stopped cooperatively and released: the next owner resumes it at once."""
    LOST = "lost"
    """Taken over by another owner; nothing of ours was finished."""
    FAILED = "failed"
    """Gave up: the loop dead-letters the input and marks the job failed."""


@dataclass(frozen=True)
class JobOutcome:
    job: JobRow
    outcome: Outcome
    error: str | None = None


class _Owned:
    """A claimed job in this process: queued or running."""

    def __init__(self, row: JobRow) -> None:
        self.row = row
        self.token = row.run_token or ""
        self.cancel = threading.Event()
        self.lost = False
        self.context: JobContext | None = None
        self.state = "queued"


class JobRunner:
    """Runs jobs of the registered kinds on ``settings.job_workers`` threads."""

    def __init__(self, engine: Engine, settings: KafkaSettings,
                 functions: Mapping[str, JobFunction], *, group: str, owner: str) -> None:
        self.engine = engine
        self.settings = settings
        self.functions = dict(functions)
        self.group = group
        self.owner = owner
        self.outcomes: queue.Queue[JobOutcome] = queue.Queue()
        self._todo: queue.Queue[_Owned] = queue.Queue()
        self._owned: dict[str, _Owned] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self._threads or not self.functions:
            return
        for n in range(self.settings.job_workers):
            self._threads.append(threading.Thread(target=self._work, name=f"job-worker-{n}",
                                                  daemon=True))
        self._threads.append(threading.Thread(target=self._keep_leases, name="job-leases",
                                              daemon=True))
        for thread in self._threads:
            thread.start()

    def submit(self, row: JobRow) -> None:
        """Run a job this process has claimed."""
        owned = _Owned(row)
        with self._lock:
            self._owned[row.job_id] = owned
        self._todo.put(owned)

    def owns(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._owned

    def cancel(self, job_ids: set[str]) -> None:
        """Ask these jobs to stop cooperatively (their partitions were revoked)."""
        with self._lock:
            for job_id in job_ids:
                if job_id in self._owned:
                    self._owned[job_id].cancel.set()
                    self._owned[job_id].state = "cancelling"

    def statuses(self) -> tuple[JobStatus, ...]:
        with self._lock:
            owned = list(self._owned.values())
        return tuple(JobStatus(
            job_id=o.row.job_id, kind=o.row.kind, topic=o.row.topic, partition=o.row.partition,
            state=o.state, progress=o.context.progress if o.context else o.row.progress,
            message=o.context.message if o.context else (o.row.message or ""),
            started_at=o.row.started_at, attempt=o.row.starts) for o in owned)

    def last_progress_at(self) -> datetime | None:
        """When an owned job last reported progress, if any did."""
        with self._lock:
            times = [o.context.progressed_at for o in self._owned.values() if o.context]
        return max(times, default=None)

    def stop(self, grace_s: float) -> bool:
        """Cancel every job, wait up to ``grace_s`` for them to stop; whether all did."""
        with self._lock:
            for owned in self._owned.values():
                owned.cancel.set()
        self._closing.set()
        deadline = time.monotonic() + grace_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [t.name for t in self._threads if t.is_alive() and t.name != "job-leases"]
        if stuck:
            log.warning("jobs still running after the %.0f s grace period; they resume from "
                        "their last checkpoint once their lease runs out", grace_s)
        return not stuck

    # ---- worker threads --------------------------------------------------------------

    def _work(self) -> None:
        while not self._closing.is_set():
            try:
                owned = self._todo.get(timeout=0.2)
            except queue.Empty:
                continue
            owned.state = "running"
            outcome, error = self._execute(owned)
            with self._lock:
                self._owned.pop(owned.row.job_id, None)
            self.outcomes.put(JobOutcome(owned.row, outcome, error))

    def _execute(self, owned: _Owned) -> tuple[Outcome, str | None]:
        row = owned.row
        if row.attempts >= self.settings.max_attempts:  # failed before a kill: finish failing
            return Outcome.FAILED, row.error or "gave up before a restart"
        function = self.functions.get(row.kind)
        if function is None:
            return Outcome.FAILED, (f"no job function for kind {row.kind!r}; register it in "
                                    f"ConsumerLoop(jobs={{{row.kind!r}: ...}})")
        event = envelope.decode(row.source_value)
        attempt, outages = row.starts, 0
        while True:
            context = JobContext(row, event, attempt=attempt, cancelled=owned.cancel,
                                 save=lambda data: self._save(owned, data))
            owned.context = context
            try:
                outputs = list(function(context) or ())
                self._finish(owned, context, outputs)
                return Outcome.DONE, None
            except JobCancelled:
                return self._stopped(owned)
            except JobLost:
                return Outcome.LOST, None
            except Exception as error:  # the job's own failure: classified like a handler's
                failure = classify(error)
                if owned.lost:
                    return Outcome.LOST, None
                if owned.cancel.is_set():
                    return self._stopped(owned)
                if failure is Failure.OUTAGE:
                    outages += 1
                else:
                    row.attempts += 1
                    if failure is Failure.POISON or row.attempts >= self.settings.max_attempts:
                        log.error("job %s failed for good: %s", row.job_id, describe(error),
                                  exc_info=error)
                        self._best_effort(jobstore.release, owned, failed_attempt=True,
                                          error=describe(error))
                        return Outcome.FAILED, describe(error)
                log.warning("job %s failed (%s), will retry: %s", row.job_id, failure,
                            describe(error), extra={"job_id": row.job_id})
                owned.state = "retrying"
                delay = self.settings.retry_backoff_initial_s * 2 ** min(outages + row.attempts, 10)
                if owned.cancel.wait(min(delay, self.settings.retry_backoff_max_s)):
                    return self._stopped(owned)
                owned.state, attempt = "running", attempt + 1

    def _finish(self, owned: _Owned, context: JobContext, outputs: list) -> None:  # type: ignore[type-arg]
        failures = 0
        while True:
            try:
                with session_scope(self.engine) as session:
                    for effect in context.effects:
                        effect(session)
                    outbox.enqueue_many(session, outputs)
                    if not jobstore.complete(session, owned.row.job_id, owned.token):
                        raise JobLost(f"job {owned.row.job_id} was taken over")
                return
            except Exception as error:
                if classify(error) is not Failure.OUTAGE:
                    raise
                failures += 1  # the work is done; only its commit waits for the database
                log.warning("cannot finish job %s yet: %s", owned.row.job_id, describe(error))
                if owned.cancel.wait(min(self.settings.retry_backoff_max_s,
                                         self.settings.retry_backoff_initial_s * 2 ** failures)):
                    raise JobCancelled(owned.row.job_id) from error

    def _save(self, owned: _Owned, data: bytes) -> None:
        if not jobstore.save_checkpoint(self.engine, owned.row.job_id, owned.token, data):
            owned.lost = True
            raise JobLost(f"job {owned.row.job_id} was taken over by another owner")

    def _stopped(self, owned: _Owned) -> tuple[Outcome, str | None]:
        if owned.lost:
            return Outcome.LOST, None
        self._best_effort(jobstore.release, owned)
        log.info("job %s stopped; it resumes from its checkpoint", owned.row.job_id)
        return Outcome.CANCELLED, None

    def _best_effort(self, operation, owned: _Owned, **kwargs) -> None:  # type: ignore[no-untyped-def]
        try:
            operation(self.engine, owned.row.job_id, owned.token, **kwargs)
        except Exception as error:  # the lease runs out instead; nothing is lost
            log.warning("could not update job %s: %s", owned.row.job_id, describe(error))

    # ---- the lease keeper ------------------------------------------------------------

    def _keep_leases(self) -> None:
        interval = self.settings.job_lease_s / 4
        while not self._closing.wait(interval) or self._any_running():
            with self._lock:
                owned = list(self._owned.values())
            if not owned:
                continue
            beats = [(o.row.job_id, o.token, o.context.progress if o.context else None,
                      o.context.message if o.context else "") for o in owned]
            try:
                lost = jobstore.heartbeat(self.engine, beats)
            except Exception as error:  # database away: the jobs go on, leases may lapse
                log.warning("job heartbeat failed: %s", describe(error))
                continue
            for o in owned:
                if o.row.job_id in lost:
                    log.warning("job %s was taken over by another owner; stopping our run",
                                o.row.job_id)
                    o.lost = True
                    o.cancel.set()

    def _any_running(self) -> bool:
        return any(t.is_alive() for t in self._threads if t.name != "job-leases")
