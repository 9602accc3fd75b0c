"""One batch of records in one database transaction, with a savepoint per record.

:func:`handle_batch` opens a transaction, skips the events the group has processed,
and runs the handler of each other record inside its own savepoint: its effects, its
outputs (into the outbox) and its job requests (into the jobs table). A record whose
handler fails is rolled back to its savepoint alone; the records of other partitions are
still handled and committed, so their side effects are never re-run because of it. The
records behind a failed one *in the same partition* are not handled in this batch (they
must wait for it: order per config), and neither are those behind a job request (the
partition waits for the job). Then the outputs go into the outbox (one statement), the
processed ids are recorded, and everything commits.

A failure of the database itself (connection lost, server going down) ends the whole
transaction: nothing of the batch is committed, and the loop retries it as an outage. So
does a failed ORM autoflush inside a handler (SQLAlchemy then rolls the transaction back):
the loop goes on one record per transaction, and no record's effects are applied twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from confluent_kafka import Message as Record
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ringrift.events import jobstore, outbox
from ringrift.events.envelope import Event
from ringrift.events.failures import Failure, classify
from ringrift.events.idempotency import mark_processed, processed_among
from ringrift.events.jobs import JobRequest
from ringrift.events.topics import TopicSpec
from ringrift.storage.database import session_scope


@dataclass
class Item:
    """A polled record waiting in its partition's queue."""

    record: Record
    topic: TopicSpec
    event: Event[Any] | None
    poison: BaseException | None = None
    """Why it can never be handled (undecodable, or the handler said so): dead-letter it."""
    attempts: int = 0
    """Failed handler attempts (errors that are neither poison nor outages)."""
    last_error: BaseException | None = None
    solo: bool = False
    """Handle it in a transaction of its own (its batch failed as a whole)."""
    key: tuple[str, int] = field(init=False)
    """(topic, partition): the queue it waits in."""

    def __post_init__(self) -> None:
        self.key = (self.record.topic() or "", self.record.partition() or 0)


class Result(StrEnum):
    HANDLED = "handled"
    SKIPPED = "skipped"
    """Already processed by the group (a redelivery)."""
    JOB = "job"
    """Handled; it asked for long work, recorded in the jobs table."""
    FAILED = "failed"
    DEFERRED = "deferred"
    """Not tried: an earlier record of its partition failed or started a job."""


@dataclass
class Outcome:
    result: Result = Result.DEFERRED
    error: BaseException | None = None
    job_ids: list[str] = field(default_factory=list)


Handler = Any  # Callable[[Event, Session], Iterable[Output | JobRequest] | None]


def handle_batch(engine: Engine, group: str, handler: Handler, items: list[Item]
                 ) -> list[Outcome]:
    """Handle ``items`` (each partition's in order) in one transaction; one outcome each.

    Raises:
        Exception: the transaction as a whole failed (database away, commit refused);
            nothing of the batch was committed.
    """
    outcomes = [Outcome() for _ in items]
    with session_scope(engine) as session:
        seen = processed_among(session, group, [item.event.event_id for item in items
                                                if item.event is not None])
        driver = session.connection().connection.driver_connection
        stopped: set[tuple[str, int]] = set()
        fresh: list[str] = []
        outputs: list[outbox.Output] = []
        output_ids: set[str] = set()
        for outcome, item in zip(outcomes, items, strict=True):
            assert item.event is not None, "undecodable records are dead-lettered, not handled"
            if item.key in stopped:
                continue
            if item.event.event_id in seen:  # handled before (or twice in this batch)
                outcome.result = Result.SKIPPED
                continue
            try:
                with record_savepoint(session, driver):
                    produced, outcome.job_ids = _run_handler(session, group, handler, item,
                                                             output_ids)
            except Exception as error:
                if isinstance(error, BatchAborted) or (
                        isinstance(error, DBAPIError) and classify(error) is Failure.OUTAGE):
                    raise  # the transaction itself is gone: the whole batch waits
                outcome.result, outcome.error = Result.FAILED, error
                stopped.add(item.key)
                continue
            outputs += produced
            output_ids.update(event.event_id for _, event in produced)
            seen.add(item.event.event_id)
            fresh.append(item.event.event_id)
            if outcome.job_ids:
                outcome.result = Result.JOB
                stopped.add(item.key)
            else:
                outcome.result = Result.HANDLED
        # All outputs in one statement (a statement per handler costs more than the rest of
        # its record); an id already in the outbox fails the batch, which then goes one
        # record at a time, so the refusal lands on the record that made it.
        outbox.enqueue_many(session, outputs)
        mark_processed(session, group, fresh)
    return outcomes


class BatchAborted(RuntimeError):
    """The batch's transaction ended under a record (connection lost, or a failed ORM flush,
    after which SQLAlchemy rolls the whole transaction back): nothing of it is committed."""


_SAVEPOINT = "ringrift_record"


@contextmanager
def record_savepoint(session: Session, driver: Any) -> Iterator[None]:
    """A savepoint around one record's handler, cheap where the handler does not use the ORM.

    The ORM's own ``begin_nested()`` costs more than the rest of a record (its snapshot
    bookkeeping), so the savepoint goes straight to the driver. The handler's pending ORM
    changes are flushed inside it, within an ORM savepoint, so that a failing flush rolls
    back to that instead of ending the transaction. On failure the handler's ORM objects
    are dropped from the session (their rows are rolled back with the savepoint).

    Args:
        session: the batch's session.
        driver: its DBAPI connection (``session.connection().connection.driver_connection``).

    Raises:
        BatchAborted: the transaction did not survive the failure (an autoflush failed
            inside the handler, or the connection is gone).
    """
    driver.execute(f"SAVEPOINT {_SAVEPOINT}")
    try:
        yield
        if session.new or session.deleted or (session.identity_map and session.dirty):
            with session.begin_nested():
                session.flush()
    except BaseException as error:
        try:
            if not session.is_active:
                raise BatchAborted("the transaction was rolled back under a failed flush")
            driver.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
            driver.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        except BatchAborted as aborted:
            raise aborted from error
        except Exception as lost:  # the connection is gone: an outage (classify sees it)
            raise BatchAborted(f"the savepoint could not be rolled back: {lost}") from lost
        finally:
            session.expunge_all()
        raise
    driver.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
    if session.identity_map:
        session.expunge_all()  # flushed; keeps the next record's dirty check cheap


def _run_handler(session: Session, group: str, handler: Handler, item: Item,
                 batch_ids: set[str]) -> tuple[list[outbox.Output], list[str]]:
    """Run the handler; returns its outputs (checked against ``batch_ids``) and the ids of
    the jobs it asked for (recorded in the jobs table)."""
    assert item.event is not None
    outputs: list[outbox.Output] = []
    requests: list[JobRequest] = []
    for produced in handler(item.event, session) or ():
        if isinstance(produced, JobRequest):
            requests.append(produced)
        elif (isinstance(produced, tuple) and len(produced) == 2
              and isinstance(produced[0], TopicSpec) and isinstance(produced[1], Event)):
            if produced[1].event_id in batch_ids:
                raise outbox.duplicate(*produced)
            batch_ids = batch_ids | {produced[1].event_id}
            outputs.append(produced)
        else:
            raise TypeError(f"the handler returned {produced!r}; a handler returns (TopicSpec, "
                            "Event) outputs and JobRequest items, or None")
    if not requests:
        return outputs, []
    return outputs, jobstore.record_jobs(session, group, item.event, item.record, requests)
