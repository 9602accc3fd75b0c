"""The outbox relay: a thread that publishes committed outbox rows and marks them sent.

It waits to be woken (a commit with outputs, or every ``idle_poll_s``), reads unsent rows
in id order, sends them through its own idempotent producer (so order per partition
holds), waits for the broker's acknowledgements and marks the acknowledged rows sent. A
row whose delivery failed stays unsent and goes again on the next pass; a kill between the
acknowledgement and the mark publishes a row twice with one event id, which the next
stage skips (at least once, never lost). The database is read and written in short
transactions of its own: no transaction is ever open while the relay waits for the broker.

Only the holder of the database's relay lock (:mod:`ringrift.events.relay_lock`)
publishes; a relay that does not hold it stands by and reports so. Sent rows older than
``outbox_retention_hours`` are pruned by the active relay.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select, update

from ringrift.events import metrics, outbox
from ringrift.events.failures import describe
from ringrift.events.outbox import OutboxRow
from ringrift.events.producer import EventProducer, RawRecord
from ringrift.events.relay_lock import lock_for
from ringrift.events.settings import KafkaSettings
from ringrift.storage.database import session_scope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelayStatus:
    """What the relay is doing, for status views and readiness."""

    running: bool
    active: bool
    """Holds the database's relay lock and publishes (False: standing by, or stopped)."""
    backlog: int
    """Unsent rows seen at the last look (at most ``batch_size``)."""
    outage: str | None
    """Why rows are not going out (database or broker away), or None."""
    outage_since: datetime | None
    last_published_at: datetime | None


class OutboxRelay:
    """Publishes the outbox of ``engine``'s database (start it once per process).

    Args:
        engine: the service's database.
        settings: broker connection, publish timeout, retry backoff, retention.
        client_id: names the relay's producer in the broker's logs.
        batch_size: rows read and sent per pass.
        idle_poll_s: how often to look for rows without being woken (rows committed by a
            process that has no relay, or whose wake-up was missed).
        lock_retry_s: how often a standing-by relay tries to take the lock.
    """

    def __init__(self, engine: Engine, settings: KafkaSettings, *,
                 client_id: str = "ringrift-relay", batch_size: int = 1000,
                 idle_poll_s: float = 1.0, lock_retry_s: float = 2.0) -> None:
        self.engine = engine
        self.settings = settings
        self._client_id = client_id
        self._batch_size = batch_size
        self._idle_poll_s = idle_poll_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = lock_for(engine, self._wake, lock_retry_s)
        self._lock_retry_s = lock_retry_s
        self._thread: threading.Thread | None = None
        self._producer: EventProducer | None = None
        self._backlog = 0
        self._outage: str | None = None
        self._outage_since: datetime | None = None
        self._last_published_at: datetime | None = None
        self._next_prune = 0.0
        self._stop_deadline: float | None = None

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Start publishing in a background thread (idempotent)."""
        if self._thread is not None:
            return
        self._producer = EventProducer(self.settings, client_id=self._client_id)
        outbox.register_waker(self.engine, self.wake)
        self._lock.start()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for rows now (called after each commit that enqueued outputs)."""
        self._wake.set()

    def stop(self, timeout_s: float | None = None) -> None:
        """Publish what is in flight (up to ``timeout_s``, default the publish timeout), stop."""
        if self._thread is None:
            return
        timeout_s = self.settings.publish_timeout_s if timeout_s is None else timeout_s
        self._stop_deadline = time.monotonic() + timeout_s
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout_s + 5)
        outbox.unregister_waker(self.engine, self.wake)
        self._lock.close()
        self._thread = None

    def status(self) -> RelayStatus:
        """A snapshot (thread-safe). Standing by for another relay is not an outage."""
        return RelayStatus(running=self._thread is not None, active=self._lock.held.is_set(),
                           backlog=self._backlog, outage=self._outage,
                           outage_since=self._outage_since,
                           last_published_at=self._last_published_at)

    # ---- the thread ------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        while True:
            stopping = self._stopping.is_set()
            if stopping and time.monotonic() > (self._stop_deadline or 0):
                break
            if not self._lock.try_acquire():
                if stopping:
                    break
                self._wake.wait(self._lock_retry_s)
                self._wake.clear()
                continue
            self._wake.clear()
            try:
                sent = self._pass()
                self._prune_if_due()
            except Exception as error:  # database or broker away: report, back off, retry
                failures += 1
                self._report_outage(error)
                if stopping:
                    break
                self._stopping.wait(self._backoff(failures))
                continue
            failures = 0
            self._clear_outage()
            if sent == 0:
                if stopping:
                    break  # drained: everything committed before stop() is out
                self._wake.wait(self._idle_poll_s)

    def _pass(self) -> int:
        """Send one batch of unsent rows; returns how many were acknowledged."""
        with session_scope(self.engine, read_only=True) as session:
            rows = session.execute(
                select(OutboxRow.id, OutboxRow.topic, OutboxRow.partition, OutboxRow.key,
                       OutboxRow.value).where(OutboxRow.sent_at.is_(None))
                .order_by(OutboxRow.id).limit(self._batch_size)).all()
        self._backlog = len(rows)
        metrics.OUTBOX_BACKLOG.set(len(rows))
        if not rows:
            return 0
        assert self._producer is not None
        delivery = self._producer.send([RawRecord(r.topic, r.key, r.value, partition=r.partition)
                                        for r in rows])
        waited = 0.0
        while not delivery.wait(0.5):
            waited += 0.5
            if waited >= self.settings.publish_timeout_s:
                self._outage = (f"{len(rows) - len(delivery.delivered())} outbox record(s) not "
                                f"acknowledged by {self.settings.bootstrap_servers} for "
                                f"{waited:.0f} s")
                self._outage_since = self._outage_since or datetime.now(UTC)
            if self._stop_deadline is not None and time.monotonic() > self._stop_deadline:
                log.warning("stopping with %d outbox record(s) unacknowledged; they go "
                            "again after the restart", len(rows) - len(delivery.delivered()))
                break
        done = [rows[i].id for i in delivery.delivered()]
        self._mark_sent(done)
        failures = delivery.failures()
        if failures:
            index, error = failures[0]
            raise RuntimeError(f"{len(failures)} outbox record(s) not delivered, first to "
                               f"{rows[index].topic}: {error.str()} ({error.name()})")
        if done:
            self._last_published_at = datetime.now(UTC)
        return len(done)

    def _mark_sent(self, ids: list[int]) -> None:
        now = datetime.now(UTC)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            with session_scope(self.engine) as session:
                session.execute(update(OutboxRow).where(OutboxRow.id.in_(chunk))
                                .values(sent_at=now))

    def _prune_if_due(self) -> None:
        if time.monotonic() < self._next_prune:
            return
        self._next_prune = time.monotonic() + 600
        cutoff = datetime.now(UTC) - timedelta(hours=self.settings.outbox_retention_hours)
        with session_scope(self.engine) as session:
            pruned = session.execute(delete(OutboxRow).where(OutboxRow.sent_at < cutoff))
        if pruned.rowcount:
            log.info("pruned %d sent outbox row(s) older than %g h", pruned.rowcount,
                     self.settings.outbox_retention_hours)

    def _report_outage(self, error: BaseException) -> None:
        reason = describe(error)
        if self._outage is None:
            log.warning("outbox relay cannot publish, will retry: %s", reason)
            self._outage_since = datetime.now(UTC)
        self._outage = reason

    def _clear_outage(self) -> None:
        if self._outage is not None:
            log.info("outbox relay publishing again (was: %s)", self._outage)
        self._outage = None
        self._outage_since = None

    def _backoff(self, failures: int) -> float:
        delay = self.settings.retry_backoff_initial_s * 2 ** (failures - 1)
        return float(min(delay, self.settings.retry_backoff_max_s))
