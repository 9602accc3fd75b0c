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
        engine = create_engine(url)
        # SQLite leaves foreign keys off unless asked, and concurrent writers need WAL.
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    factory = sessionmaker(engine, expire_on_commit=False)
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
