"""The ``jobs`` table's operations: record, find, claim, heartbeat, checkpoint, finish.

Every change to a running job is guarded by its ``run_token``: the token of the run that
claimed it. A run whose lease ran out (its process stalled or died) and was taken over
finds its updates refused (rowcount 0) and stops, so a job is never finished twice.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from confluent_kafka import Message as Record
from sqlalchemy import Engine, delete, or_, select, update
from sqlalchemy.orm import Session

from ringrift.events.envelope import Event, derive_event_id
from ringrift.events.errors import DuplicateEventId
from ringrift.events.jobs import JobRequest, JobRow, JobState
from ringrift.storage.database import session_scope

UNFINISHED = (JobState.PENDING, JobState.RUNNING)


def job_id_for(event: Event, request: JobRequest) -> str:  # type: ignore[type-arg]
    """The job's id: the same on every re-run of the handler for this input."""
    return derive_event_id(event.event_id, f"job/{request.kind}/{request.name}")


def record_jobs(session: Session, group: str, event: Event, record: Record,  # type: ignore[type-arg]
                requests: list[JobRequest]) -> list[str]:
    """Add the jobs ``requests`` asked for, in the handler's transaction; returns their ids.

    Raises:
        DuplicateEventId: two requests of one kind and name from one input.
        TypeError: ``params`` are not JSON-serialisable (a handler bug).
    """
    now = datetime.now(UTC)
    ids: list[str] = []
    _, timestamp_ms = record.timestamp()
    for request in requests:
        job_id = job_id_for(event, request)
        if job_id in ids:
            raise DuplicateEventId(f"two job requests of kind {request.kind!r} named "
                                   f"{request.name!r} from event {event.event_id}; give each "
                                   "its own name")
        json.dumps(dict(request.params))  # fail here, naming the handler, not in the flush
        ids.append(job_id)
        session.add(JobRow(
            job_id=job_id, consumer_group=group, kind=request.kind,
            params=dict(request.params), topic=record.topic(), partition=record.partition(),
            offset=record.offset(), source_key=record.key(), source_value=record.value(),
            source_timestamp_ms=timestamp_ms if timestamp_ms > 0 else None,
            state=JobState.PENDING, attempts=0, starts=0, created_at=now))
    session.flush()
    return ids


def unfinished(engine: Engine, group: str, topic: str, partition: int) -> list[JobRow]:
    """The jobs of ``group`` for records of this partition that are not done, oldest first."""
    with session_scope(engine, read_only=True) as session:
        return list(session.scalars(
            select(JobRow).where(JobRow.consumer_group == group, JobRow.topic == topic,
                                 JobRow.partition == partition, JobRow.state.in_(UNFINISHED))
            .order_by(JobRow.created_at, JobRow.offset)))


def claim(engine: Engine, job_id: str, owner: str, lease_s: float) -> JobRow | None:
    """Take the job if nobody runs it (released, or its lease ran out); the row, or None."""
    token = str(uuid.uuid4())
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        taken = session.execute(
            update(JobRow).where(
                JobRow.job_id == job_id, JobRow.state.in_(UNFINISHED),
                or_(JobRow.run_token.is_(None),
                    JobRow.heartbeat_at < now - timedelta(seconds=lease_s)))
            .values(state=JobState.RUNNING, run_token=token, owner=owner, heartbeat_at=now,
                    starts=JobRow.starts + 1, started_at=now)).rowcount
        if taken != 1:
            return None
        return session.get(JobRow, job_id)


def heartbeat(engine: Engine, beats: list[tuple[str, str, float | None, str]]) -> set[str]:
    """Refresh the leases of (job_id, token, progress, message); returns the ids now lost."""
    lost: set[str] = set()
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        for job_id, token, progress, message in beats:
            count = session.execute(
                update(JobRow).where(JobRow.job_id == job_id, JobRow.run_token == token)
                .values(heartbeat_at=now, progress=progress, message=message[:2000])).rowcount
            if count != 1:
                lost.add(job_id)
    return lost


def save_checkpoint(engine: Engine, job_id: str, token: str, data: bytes) -> bool:
    """Store the checkpoint of the run holding ``token``; False if the job was taken over."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        return session.execute(
            update(JobRow).where(JobRow.job_id == job_id, JobRow.run_token == token)
            .values(checkpoint=data, checkpoint_at=now, heartbeat_at=now)).rowcount == 1


def release(engine: Engine, job_id: str, token: str, *, failed_attempt: bool = False,
            error: str | None = None) -> bool:
    """Hand the job back (pending, no owner) so the next owner resumes it at once."""
    values: dict[str, object] = {"state": JobState.PENDING, "run_token": None, "owner": None}
    if failed_attempt:
        values["attempts"] = JobRow.attempts + 1
    if error is not None:
        values["error"] = error[:8000]
    with session_scope(engine) as session:
        return session.execute(
            update(JobRow).where(JobRow.job_id == job_id, JobRow.run_token == token)
            .values(**values)).rowcount == 1


def complete(session: Session, job_id: str, token: str) -> bool:
    """Mark the job done in ``session`` (the one holding its outputs); False if it was lost."""
    return session.execute(
        update(JobRow).where(JobRow.job_id == job_id, JobRow.run_token == token)
        .values(state=JobState.DONE, run_token=None, finished_at=datetime.now(UTC),
                progress=1.0)).rowcount == 1


def mark_failed(engine: Engine, job_id: str, error: str) -> None:
    """Mark an unfinished job failed (its input was dead-lettered)."""
    with session_scope(engine) as session:
        session.execute(update(JobRow).where(JobRow.job_id == job_id,
                                             JobRow.state.in_(UNFINISHED))
                        .values(state=JobState.FAILED, run_token=None, error=error[:8000],
                                finished_at=datetime.now(UTC)))


def prune_finished(engine: Engine, group: str, older_than: datetime) -> int:
    """Delete ``group``'s jobs that finished (done or failed) before ``older_than``.

    Safe at any age: a finished job's input is a processed id, so it never starts again.
    """
    with session_scope(engine) as session:
        return session.execute(delete(JobRow).where(
            JobRow.consumer_group == group, JobRow.state.in_((JobState.DONE, JobState.FAILED)),
            JobRow.finished_at < older_than)).rowcount
