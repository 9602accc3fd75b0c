"""Helpers shared by the event integration tests: a store with an effects table, events
with sequence numbers, a recording handler, running loops in threads, polling with deadlines.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy import Engine, Integer, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from ringrift.events.consumer import ConsumerLoop
from ringrift.events.envelope import Event, new_event
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted
from ringrift.events.idempotency import ProcessedEvent
from ringrift.events.jobs import JobRow
from ringrift.events.outbox import OutboxRow
from ringrift.events.producer import EventProducer
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import TopicSpec
from ringrift.storage.database import make_engine, session_scope


class _TestBase(DeclarativeBase):
    """Kept apart from the project's Base so test tables never reach its migrations."""


class Effect(_TestBase):
    """One handled event's effect, in handling order (id is autoincrement)."""

    __tablename__ = "test_effects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64))
    config_key: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)
    consumer: Mapped[str] = mapped_column(String(32))


LIBRARY_TABLES = [ProcessedEvent.__table__, OutboxRow.__table__, JobRow.__table__]


def make_store(path: Path | str) -> Engine:
    """A service store (a SQLite file, or a database URL) with the backbone's tables (as
    the migrations make them) and the effects table."""
    url = str(path) if "://" in str(path) else f"sqlite:///{path}"
    engine = make_engine(url)
    ProcessedEvent.metadata.create_all(engine, tables=LIBRARY_TABLES)
    _TestBase.metadata.create_all(engine)
    return engine


def game_event(config_key: str, seq: int, game_id: str = "") -> Event[GameCompleted]:
    """A game-completed event whose ``num_moves`` carries a sequence number."""
    payload = GameCompleted(game_id=game_id or f"{config_key}-{seq}", config_key=config_key,
                            num_moves=seq, record=b"\x00" * 64, record_encoding="test")
    return new_event(payload, config_key=config_key, producer="selfplay")


def publish(settings: KafkaSettings, topic: TopicSpec, events: Iterable[Event]) -> None:
    with EventProducer(settings, client_id="test-producer") as producer:
        for event in events:
            producer.publish(topic, event)


def recording_handler(consumer: str, fail: Callable[[Event], None] | None = None):
    """A handler that records an Effect per event; ``fail(event)`` may raise first."""
    def handle(event: Event, session: Session) -> None:
        if fail is not None:
            fail(event)
        session.add(Effect(event_id=event.event_id, config_key=event.config_key,
                           seq=event.payload.num_moves, consumer=consumer))
    return handle


def effects(engine: Engine) -> list[Effect]:
    with session_scope(engine, read_only=True) as session:
        return list(session.scalars(select(Effect).order_by(Effect.id)))


def effect_count(engine: Engine) -> int:
    with session_scope(engine, read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(Effect)) or 0)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` until true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


class LoopThread:
    """Runs a ConsumerLoop in a thread; ``stop()`` stops it and re-raises its error."""

    def __init__(self, loop: ConsumerLoop) -> None:
        self.loop = loop
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.loop.run()
        except BaseException as error:  # surfaced by stop()
            self.error = error

    def stop(self, timeout: float = 60) -> None:
        self.loop.stop()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the consumer loop did not stop"
        if self.error is not None:
            raise self.error
