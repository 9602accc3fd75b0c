"""One publishing relay per database: the lock, and on PostgreSQL the wake-up listener.

Two relays publishing the same outbox would each send every row (twice downstream) and
interleave them. So a relay publishes only while it holds the database's relay lock:

* PostgreSQL: a session-level advisory lock on a connection of its own. A killed process's
  connection closes and the lock goes with it, so a standby relay (another replica) takes
  over within its retry interval. The same connection ``LISTEN``\\ s on the outbox channel:
  a commit with outputs in any process wakes the relay holding the lock.
* SQLite: an exclusive ``flock`` on ``<database file>.relay-lock`` (released by the kernel
  when the process dies); an in-memory database has one process by definition.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from pathlib import Path
from typing import IO

from sqlalchemy import Engine

from ringrift.events.outbox import NOTIFY_CHANNEL

log = logging.getLogger(__name__)
# pg_advisory_lock takes a bigint; this one is ours: "ringrift outbox relay" (crc-like, fixed).
ADVISORY_LOCK_ID = 7_263_011_842


class RelayLock:
    """Held while ``held`` is set; ``wake`` is set on NOTIFY (PostgreSQL only)."""

    def __init__(self, wake: threading.Event) -> None:
        self.held = threading.Event()
        self.wake = wake
        self.error: str | None = None

    def start(self) -> None:
        """Begin trying to take the lock (at once, then every ``retry_s`` while standing by)."""

    def try_acquire(self) -> bool:
        """Whether the lock is held now (takes it if free)."""
        return self.held.is_set()

    def close(self) -> None:
        """Release the lock."""


def lock_for(engine: Engine, wake: threading.Event, retry_s: float) -> RelayLock:
    """The right lock for ``engine``'s database."""
    if engine.dialect.name == "postgresql":
        return PostgresRelayLock(engine, wake, retry_s)
    database = engine.url.database
    if not database or database == ":memory:":
        lock = RelayLock(wake)
        lock.held.set()
        return lock
    return FileRelayLock(Path(database), wake)


class FileRelayLock(RelayLock):
    """``flock`` on a file beside the SQLite database."""

    def __init__(self, database: Path, wake: threading.Event) -> None:
        super().__init__(wake)
        self.path = database.with_name(database.name + ".relay-lock")
        self._file: IO[bytes] | None = None

    def try_acquire(self) -> bool:
        if self.held.is_set():
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            self.error = f"another relay holds {self.path}"
            return False
        self._file, self.error = handle, None
        self.held.set()
        return True

    def close(self) -> None:
        self.held.clear()
        if self._file is not None:
            self._file.close()  # closing the descriptor releases the flock
            self._file = None


class PostgresRelayLock(RelayLock):
    """An advisory lock plus ``LISTEN``, on a psycopg connection served by a thread."""

    def __init__(self, engine: Engine, wake: threading.Event, retry_s: float) -> None:
        super().__init__(wake)
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        self._retry_s = retry_s
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="outbox-relay-lock",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._closing.set()
        self._thread.join(10)
        self.held.clear()

    def _serve(self) -> None:
        import psycopg

        while not self._closing.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True,
                                     connect_timeout=10) as connection:
                    self._hold(connection)
            except psycopg.Error as error:
                self.error = f"relay lock connection: {str(error).strip().splitlines()[0]}"
                log.warning("outbox relay lock lost or unavailable: %s", self.error)
            finally:
                self.held.clear()
            self._closing.wait(self._retry_s)

    def _hold(self, connection) -> None:  # type: ignore[no-untyped-def]
        while not self._closing.is_set():
            got = connection.execute("SELECT pg_try_advisory_lock(%s)",
                                     (ADVISORY_LOCK_ID,)).fetchone()[0]
            if got:
                break
            self.error = "another relay holds this database's outbox lock (standing by)"
            if self._closing.wait(self._retry_s):
                return
        connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
        self.error = None
        self.held.set()
        self.wake.set()  # rows may have been committed while nobody published
        while not self._closing.is_set():
            for _ in connection.notifies(timeout=0.5, stop_after=1):
                self.wake.set()
