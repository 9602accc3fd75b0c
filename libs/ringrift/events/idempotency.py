"""Processed event ids: what makes every handler idempotent under at-least-once delivery.

Kafka may deliver a record again (a consumer died before committing its offset, a
rebalance moved a partition). Each consumer group records the ids of the events it
has handled in its own database, in the *same transaction* as the handler's effects:
either both are committed or neither is. A redelivered event whose id is recorded is
skipped, so its effects never happen twice. Events a handler emits get ids derived
from the input's id (:func:`ringrift.events.envelope.follow_up`), so a handler re-run
after a crash re-emits the same ids and the next stage skips them the same way.

Ids are kept at least as long as a record can come again: the longest retention of the
topics the group consumes, plus a day (:func:`retention_for`), then pruned by the
consumer loop (:func:`prune_processed`, about hourly, on the indexed ``processed_at``).
A group that consumes a compacted topic (records kept for good) keeps its ids for good.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, Engine, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ringrift.events.topics import DAY_MS, TopicSpec
from ringrift.storage.database import Base, session_scope


class ProcessedEvent(Base):
    """One event handled by one consumer group."""

    __tablename__ = "processed_events"

    consumer_group: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC), server_default=func.now(),
        index=True)


def processed_among(session: Session, group: str, event_ids: Collection[str]) -> set[str]:
    """Which of ``event_ids`` ``group`` has recorded as handled (one query for a batch)."""
    if not event_ids:
        return set()
    rows = session.execute(
        select(ProcessedEvent.event_id).where(ProcessedEvent.consumer_group == group,
                                              ProcessedEvent.event_id.in_(event_ids)))
    return set(rows.scalars())


def already_processed(session: Session, group: str, event_id: str) -> bool:
    """Whether ``group`` has recorded ``event_id`` as handled."""
    return bool(processed_among(session, group, [event_id]))


def mark_processed(session: Session, group: str, event_ids: Collection[str]) -> None:
    """Record ``event_ids`` as handled by ``group`` in the session's transaction.

    Call it in the transaction that holds the handler's effects. If another consumer
    of the group recorded one of them first (a redelivery racing a rebalance), this
    raises ``IntegrityError`` and the caller rolls the whole transaction back.
    """
    if event_ids:
        now = datetime.now(UTC)
        # One Core executemany INSERT: the ORM's unit of work and bulk path cost far more.
        session.execute(ProcessedEvent.__table__.insert(), [
            {"consumer_group": group, "event_id": event_id, "processed_at": now}
            for event_id in event_ids])


def forget_processed(session: Session, group: str, event_ids: Collection[str]) -> None:
    """Drop ``event_ids`` from ``group``'s record, so that they are handled again if they
    come back: for a consumer that sets an event's effects aside later and dead-letters it
    then (the exporter, when a stored game does not replay as its shard is built), so that
    replaying the letter is not skipped as a repeat."""
    if event_ids:
        session.execute(delete(ProcessedEvent).where(
            ProcessedEvent.consumer_group == group, ProcessedEvent.event_id.in_(event_ids)))


def retention_for(topics: Iterable[TopicSpec], days: float | None = None) -> timedelta | None:
    """How long a group consuming ``topics`` keeps processed ids; None: for good.

    Args:
        topics: the topics the group consumes.
        days: an explicit retention (``KafkaSettings.processed_retention_days``), if set.
    """
    if days is not None:
        return timedelta(days=days)
    retentions = [spec.retention_ms for spec in topics]
    if not retentions or any(ms is None for ms in retentions):
        return None
    return timedelta(milliseconds=max(ms for ms in retentions if ms is not None) + DAY_MS)


def prune_processed(engine: Engine, group: str, older_than: datetime,
                    chunk: int = 5000) -> int:
    """Delete ``group``'s ids recorded before ``older_than``, in short transactions.

    Returns:
        How many were deleted.
    """
    total = 0
    while True:
        with session_scope(engine) as session:
            ids = list(session.scalars(
                select(ProcessedEvent.event_id).where(
                    ProcessedEvent.consumer_group == group,
                    ProcessedEvent.processed_at < older_than).limit(chunk)))
            if ids:
                session.execute(delete(ProcessedEvent).where(
                    ProcessedEvent.consumer_group == group, ProcessedEvent.event_id.in_(ids)))
        total += len(ids)
        if len(ids) < chunk:
            return total

