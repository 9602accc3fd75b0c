"""The transactional outbox: outputs are rows committed with the effects that caused them.

A handler's outputs are not published while its transaction is open: :func:`enqueue`
writes each one into the ``outbox`` table in the *same* transaction as the handler's
effects and the input's processed id. Either all of it commits or none of it does, so an
output is never published for effects that were rolled back (a ghost), and never lost
for effects that were committed. The relay (:mod:`ringrift.events.relay`) publishes
committed rows in id order and marks them sent; sent rows are pruned after
``outbox_retention_hours``.

Anything that writes to its database and must tell the pipeline (a consumer handler, a
timer, selfplay's game loop, a REST handler) calls :func:`enqueue` inside its own
transaction; the relay of the process is woken when that transaction commits, and on
PostgreSQL a ``NOTIFY`` wakes the relay of another replica that may hold the per-database
publishing lock.

An event id is unique in the outbox: a second output with the same id is refused with
:class:`~ringrift.events.errors.DuplicateEventId` (two outputs of one input need two
names), never silently collapsed into one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Index,
    Integer,
    LargeBinary,
    String,
    event,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from ringrift.events import envelope
from ringrift.events.envelope import Event
from ringrift.events.errors import DuplicateEventId
from ringrift.events.producer import partition_for, partition_key
from ringrift.events.topics import TopicSpec
from ringrift.storage.database import Base

NOTIFY_CHANNEL = "ringrift_outbox"
_DIRTY = "ringrift.outbox.dirty"
_HOOKED = "ringrift.outbox.hooked"


class OutboxRow(Base):
    """One output waiting to be published (``sent_at`` NULL) or published."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    """Publication order: the relay publishes unsent rows by ascending id."""
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    topic: Mapped[str] = mapped_column(String(249))
    partition: Mapped[int | None] = mapped_column(Integer)
    key: Mapped[bytes | None] = mapped_column(LargeBinary)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

    __table_args__ = (
        # The relay's query: unsent rows in id order, cheap however many sent rows remain.
        Index("ix_outbox_unsent", "id", postgresql_where=text("sent_at IS NULL"),
              sqlite_where=text("sent_at IS NULL")),
    )


Output = tuple[TopicSpec, Event[Message]]


def enqueue(session: Session, topic: TopicSpec, event: Event[Message]) -> None:
    """Add ``event`` for ``topic`` to the outbox in ``session``'s transaction.

    Args:
        session: the transaction that holds the effects the event announces.
        topic: the registry topic (or a renamed copy) to publish on.
        event: the event; its id must be new to the outbox.

    Raises:
        DuplicateEventId: an output with this event id is already in the outbox (or was
            added earlier in this transaction). On PostgreSQL the transaction is then
            aborted: roll it back (a consumer handler's savepoint does that).
    """
    enqueue_many(session, [(topic, event)])


def enqueue_many(session: Session, outputs: Iterable[Output]) -> int:
    """Add several outputs at once (one statement); returns how many. Raises like :func:`enqueue`."""
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    ids: set[str] = set()
    for topic, item in outputs:
        if item.event_id in ids:
            raise duplicate(topic, item)
        ids.add(item.event_id)
        rows.append({"event_id": item.event_id, "topic": topic.name,
                     "partition": partition_for(topic, item),
                     "key": partition_key(topic, item).encode(),
                     "value": envelope.encode(item), "created_at": now})
    if not rows:
        return 0
    try:
        # A Core executemany: the ORM's bulk insert path costs several times as much a row.
        session.execute(OutboxRow.__table__.insert(), rows)
    except IntegrityError as error:
        raise DuplicateEventId(
            f"an output with one of the event ids {sorted(ids)} is already in the outbox; "
            "two outputs must have distinct ids: pass distinct names to "
            "ringrift.events.envelope.follow_up(cause, payload, name=...)") from error
    _hook(session)
    return len(rows)


def duplicate(topic: TopicSpec, item: Event[Message]) -> DuplicateEventId:
    """The refusal of a second output with ``item``'s id in one transaction."""
    return DuplicateEventId(
        f"two outputs with event id {item.event_id} ({item.event_type} for {topic.name}) from "
        "one transaction; give each output of one input its own name: "
        "ringrift.events.envelope.follow_up(cause, payload, name=...)")


# ---- waking the relay when a transaction with outputs commits --------------------------

_wakers: dict[str, set[Callable[[], None]]] = {}
_wakers_lock = threading.Lock()


def database_key(engine: Engine) -> str:
    """Identifies one database: engines for the same URL share their relay's wake-ups."""
    return engine.url.render_as_string(hide_password=True)


def register_waker(engine: Engine, wake: Callable[[], None]) -> None:
    """Call ``wake`` after each commit that enqueued outputs into ``engine``'s database."""
    with _wakers_lock:
        _wakers.setdefault(database_key(engine), set()).add(wake)


def unregister_waker(engine: Engine, wake: Callable[[], None]) -> None:
    with _wakers_lock:
        _wakers.get(database_key(engine), set()).discard(wake)


def _hook(session: Session) -> None:
    session.info[_DIRTY] = True
    if not session.info.get(_HOOKED):
        session.info[_HOOKED] = True
        event.listen(session, "before_commit", _before_commit)
        event.listen(session, "after_commit", _after_commit)


# Both hooks also fire when a savepoint is released (a handler's, in the consumer loop):
# that commits nothing yet, so they act on the outermost transaction's commit only.

def _before_commit(session: Session) -> None:
    if (session.info.get(_DIRTY) and not session.in_nested_transaction()
            and session.get_bind().dialect.name == "postgresql"):
        # Delivered to listeners only if and when this transaction commits.
        session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction() or not session.info.pop(_DIRTY, False):
        return
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _wakers_lock:
        wakers = list(_wakers.get(database_key(engine), ()))
    for wake in wakers:
        wake()
