"""Database engines and sessions through SQLAlchemy, PostgreSQL or SQLite alike.

PostgreSQL (through psycopg 3) is the durable store of a cluster; SQLite is the
embedded default for a one-machine run. Both go through this module so that the
code above it never knows which one it talks to. Every table of the project
derives from :class:`Base`; schema changes are Alembic migrations.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from ringrift.errors import ConfigurationError


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
