"""Database engines and sessions through SQLAlchemy, PostgreSQL or SQLite alike.

PostgreSQL (through psycopg 3) is the durable store of a cluster; SQLite is the
embedded default for a one-machine run. Both go through this module so that the
code above it never knows which one it talks to. Every table of the project
derives from :class:`Base`; schema changes are Alembic migrations.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from ringrift.errors import ConfigurationError
from ringrift.storage.errors import DatabaseUnavailable


class Base(DeclarativeBase):
    """Declarative base of every table in the project."""


def normalise_url(url: str) -> str:
    """Map ``postgresql://`` to the psycopg 3 driver; leave other URLs alone.

    Raises:
        ConfigurationError: the URL cannot be parsed or names an unsupported backend.
    """
    try:
        parsed = make_url(url)
    except Exception as error:  # SQLAlchemy raises ArgumentError with a terse message.
        raise ConfigurationError(f"invalid database URL {url!r}: {error}") from error
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if parsed.get_backend_name() == "sqlite":
        return url
    raise ConfigurationError(
        f"unsupported database {parsed.get_backend_name()!r}; use postgresql:// or sqlite://"
    )


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file's directory is created if missing."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Writers queue on the busy timeout (BEGIN IMMEDIATE, below) behind a consumer's
        # batch transaction, which may take a few seconds on a busy machine.
        engine = create_engine(url, connect_args={"timeout": 30.0})
        # SQLite leaves foreign keys off unless asked, and concurrent writers need WAL.
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # pysqlite's own transaction handling emits no BEGIN before a SELECT or a SAVEPOINT, so
    # a savepoint opened first becomes the outer transaction and its RELEASE commits it
    # (effects durable before the rest of the transaction). Take BEGIN over: _sqlite_begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin(connection) -> None:  # type: ignore[no-untyped-def]
    # IMMEDIATE takes the write lock at the start: a transaction that reads, then writes,
    # cannot fail with "database is locked" when another writer committed in between (a
    # deferred one can, at once, without waiting); writers queue on the busy timeout.
    # A read-only session (session_scope(read_only=True)) reads its WAL snapshot without it.
    read_only = connection.get_execution_options().get(_READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


_READ_ONLY = "ringrift_read_only"


@contextmanager
def session_scope(engine: Engine, *, read_only: bool = False) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error.

    Args:
        engine: the database.
        read_only: the transaction only reads. On SQLite it then takes no write lock and
            never waits for writers (a writing transaction takes the lock at its start, so
            that reading first and writing later cannot fail); elsewhere no difference.
    """
    bind = engine.execution_options(**{_READ_ONLY: True}) if read_only else engine
    factory = sessionmaker(bind, expire_on_commit=False)
    with factory() as session, session.begin():
        yield session


def wait_for_database(url: str, timeout_s: float = 30.0, interval_s: float = 1.0) -> None:
    """Return once the database at ``url`` answers a query; a service's first step.

    Raises:
        DatabaseUnavailable: it did not answer within ``timeout_s``; the message
            carries the last error (password hidden).
    """
    engine = make_engine(url)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return
            except OperationalError as error:
                if time.monotonic() >= deadline:
                    shown = make_url(normalise_url(url)).render_as_string(hide_password=True)
                    raise DatabaseUnavailable(
                        f"database {shown} did not answer within {timeout_s:g} s: "
                        f"{str(error.orig or error).strip().splitlines()[0]}"
                    ) from error
                time.sleep(interval_s)
    finally:
        engine.dispose()


def as_utc(moment: datetime) -> datetime:
    """A time read back from a ``DateTime(timezone=True)`` column, timezone-aware: SQLite
    returns naive UTC, PostgreSQL aware times, and the two must compare alike."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
