"""Which partitions wait for which job: the consumer loop's side of long work.

A partition just assigned, or whose job just ended, is in ``check``: :meth:`JobScheduler.check`
looks for an unfinished job of its records (:func:`ringrift.events.jobstore.unfinished`),
claims it (or waits while another owner's lease is alive) and hands it to the
:class:`~ringrift.events.jobrunner.JobRunner`; the partition then waits in ``job``.
:meth:`JobScheduler.drain` acts on the jobs that ended, on the loop's own thread: the
partition looks for further jobs and then goes on; the input of a job that failed for good
is dead-lettered first (a letter that cannot be written is retried on a later turn).
"""

from __future__ import annotations

import logging
import queue
import time

from sqlalchemy import Engine

from ringrift.events import jobstore, metrics
from ringrift.events.deadletter import DeadLetterSender, SourceRecord
from ringrift.events.failures import describe
from ringrift.events.jobrunner import JobOutcome, JobRunner, Outcome
from ringrift.events.partitions import CHECK, JOB, PartitionState, backoff
from ringrift.events.settings import KafkaSettings

log = logging.getLogger("ringrift.events.consumer")
Partitions = dict[tuple[str, int], PartitionState]


class JobScheduler:
    """Claims, starts and finishes the jobs of one consumer loop's partitions."""

    def __init__(self, engine: Engine, settings: KafkaSettings, group: str,
                 runner: JobRunner, letters: DeadLetterSender) -> None:
        self.engine = engine
        self.settings = settings
        self.group = group
        self.runner = runner
        self._letters = letters
        self._ended: list[JobOutcome] = []

    def check(self, parts: Partitions) -> None:
        """Partitions in ``check``: run (or wait for) their unfinished jobs, else go on."""
        now = time.monotonic()
        for part in list(parts.values()):
            if part.state != CHECK or not part.due(now):
                continue
            try:
                pending = jobstore.unfinished(self.engine, self.group, part.topic,
                                              part.partition)
                if not pending:
                    part.recover()
                    continue
                job = pending[0]
                if self.runner.owns(job.job_id):  # ours, still stopping: wait for it
                    part.wait(CHECK, f"job {job.job_id} stopping", 0.5)
                    continue
                claimed = jobstore.claim(self.engine, job.job_id, self.runner.owner,
                                         self.settings.job_lease_s)
            except Exception as error:  # database away: look again later
                part.failures += 1
                part.wait(CHECK, f"looking for jobs: {describe(error)}", backoff(
                    self.settings.retry_backoff_initial_s, self.settings.retry_backoff_max_s,
                    part.failures))
                continue
            if claimed is None:
                part.wait(CHECK, f"job {job.job_id} runs elsewhere ({job.owner}); waiting for"
                          " it to end or its lease to run out",
                          min(2.0, self.settings.job_lease_s / 4))
                continue
            part.failures, part.job_id = 0, claimed.job_id
            part.wait(JOB, f"job {claimed.job_id} ({claimed.kind}) running", 0.0)
            self.runner.submit(claimed)
            metrics.JOBS_RUNNING.labels(self.group).inc()

    def drain(self, parts: Partitions) -> int:
        """Act on jobs that ended; returns how many finished (done or failed)."""
        while True:
            try:
                self._ended.append(self.runner.outcomes.get_nowait())
                metrics.JOBS_RUNNING.labels(self.group).dec()
            except queue.Empty:
                break
        finished = 0
        ended, self._ended = self._ended, []
        for done in ended:
            job = done.job
            part = parts.get((job.topic, job.partition))
            if done.outcome is Outcome.FAILED and part is not None:
                if not self._dead_letter(part, done):
                    self._ended.append(done)  # retried on a later turn
                    continue
            if done.outcome in (Outcome.DONE, Outcome.FAILED):
                metrics.JOBS_FINISHED.labels(self.group, job.kind, done.outcome.value).inc()
                finished += 1
            log.info("job %s %s", job.job_id, done.outcome.value,
                     extra={"group": self.group, "job_kind": job.kind})
            if part is not None and part.job_id == job.job_id:
                part.job_id = None
                part.wait(CHECK, "looking for further jobs", 0.0)
        return finished

    def _dead_letter(self, part: PartitionState, done: JobOutcome) -> bool:
        job = done.job
        source = SourceRecord(job.topic, job.partition, job.offset, job.source_key,
                              job.source_value, (), job.source_timestamp_ms)
        problem = self._letters.send(source, done.error or "job failed", max(job.attempts, 1))
        if problem is not None:
            part.outage(problem, self.settings.retry_backoff_initial_s,
                        self.settings.retry_backoff_max_s)
            return False
        try:
            jobstore.mark_failed(self.engine, job.job_id, done.error or "failed")
        except Exception as error:  # the next owner dead-letters it again: harmless
            log.warning("could not mark job %s failed: %s", job.job_id, describe(error))
        metrics.DEAD_LETTERED.labels(job.topic, self.group).inc()
        log.error("job %s failed for good; its input is dead-lettered: %s", job.job_id,
                  done.error, extra={"group": self.group, "topic": job.topic})
        return True
