"""Helpers shared by the event integration tests: a store with an effects table, events
with sequence numbers, a recording handler, running loops in threads, polling with deadlines.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from sqlalchemy import Engine, Integer, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from ringrift.events import envelope
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


def read_topic(settings: KafkaSettings, topic: str, timeout: float = 60.0
               ) -> list[tuple[bytes | None, Event]]:
    """(key, event) of every record on ``topic`` now: all partitions, up to their ends."""
    return [(record.key(), envelope.decode(record.value()))
            for record in read_records(settings, topic, timeout)]


def read_records(settings: KafkaSettings, topic: str, timeout: float = 60.0) -> list:
    """Every record on ``topic`` now (all partitions, from the start to the high watermarks)."""
    reader = Consumer(settings.client_config() | {
        "group.id": f"reader-{uuid.uuid4().hex}", "enable.auto.commit": False,
        "enable.partition.eof": True})
    try:
        metadata = reader.list_topics(topic, timeout=timeout).topics[topic]
        ends = {}
        for partition in metadata.partitions:
            _, high = reader.get_watermark_offsets(TopicPartition(topic, partition), timeout)
            if high > 0:
                ends[partition] = high
        reader.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        found: list = []
        deadline = time.monotonic() + timeout
        while ends:
            record = reader.poll(0.5)
            if record is not None and record.error() is None:
                found.append(record)
                if record.offset() + 1 >= ends.get(record.partition(), 0):
                    ends.pop(record.partition(), None)
            if time.monotonic() > deadline:
                raise AssertionError(f"reading {topic} stalled; partitions left: {ends}")
        return found
    finally:
        reader.close()


REPO_ROOT = Path(__file__).resolve().parents[3]
NEVER_MS = 600_000
"""An auto-commit interval no test outlasts: no background commit before a kill."""


def start_child(settings: KafkaSettings, topic: TopicSpec, group: str, db: Path, log: Path,
                *extra: str) -> subprocess.Popen[bytes]:
    """The consumer child process (``consumer_child.py``), logging to ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.events.consumer_child",
         "--bootstrap-servers", settings.bootstrap_servers, "--topic", topic.name,
         "--partitions", str(topic.partitions), "--group", group, "--db", str(db),
         "--auto-commit-interval-ms", str(NEVER_MS), *extra],
        cwd=REPO_ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def kill(child: subprocess.Popen[bytes]) -> None:
    """SIGKILL, and reap."""
    child.send_signal(signal.SIGKILL)
    child.wait(30)


def terminate(child: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    """SIGTERM; the child must exit 0 (its log is the failure message otherwise)."""
    child.send_signal(signal.SIGTERM)
    try:
        code = child.wait(timeout)
    except subprocess.TimeoutExpired:
        kill(child)
        raise AssertionError(f"no exit within {timeout:.0f} s of SIGTERM:\n{log.read_text()}"
                             ) from None
    assert code == 0, log.read_text()
