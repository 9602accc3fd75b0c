"""Database URLs, engines and waiting for a database, without starting a server.

Checks: ``postgresql://`` maps to the psycopg 3 driver and SQLite URLs pass
through; an unsupported or unparsable URL is a ConfigurationError; a SQLite
engine creates its file's directory and turns foreign keys on; a session scope
commits on success and rolls back on error; waiting on a server that refuses
connections raises DatabaseUnavailable (retryable) with the password hidden.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from ringrift.errors import ConfigurationError, RetryableError
from ringrift.storage.database import make_engine, normalise_url, session_scope, wait_for_database
from ringrift.storage.errors import DatabaseUnavailable


def test_postgresql_url_gets_the_psycopg_driver() -> None:
    assert normalise_url("postgresql://u:p@h:5/d") == "postgresql+psycopg://u:p@h:5/d"
    assert normalise_url("sqlite:///var/x.db") == "sqlite:///var/x.db"


@pytest.mark.parametrize("url", ["mysql://u@h/d", "not a url"])
def test_unsupported_url(url: str) -> None:
    with pytest.raises(ConfigurationError):
        normalise_url(url)


def test_sqlite_engine_creates_directory_and_enforces_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'x.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert (tmp_path / "nested" / "dir" / "x.db").exists()
    engine.dispose()


def test_session_scope_commits_or_rolls_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with session_scope(engine) as session:
        session.execute(text("CREATE TABLE t (v INTEGER)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        session.execute(text("INSERT INTO t VALUES (2)"))
        raise RuntimeError("boom")
    with session_scope(engine) as session:
        assert session.execute(text("SELECT v FROM t")).scalars().all() == [1]
    engine.dispose()


def test_waiting_for_an_unreachable_database_gives_up_clearly() -> None:
    # Port 1 on loopback refuses at once; nothing listens there.
    with pytest.raises(DatabaseUnavailable, match="did not answer") as caught:
        wait_for_database("postgresql://ringrift:secret@127.0.0.1:1/x", timeout_s=0.2,
                          interval_s=0.1)
    assert "secret" not in str(caught.value)
    assert isinstance(caught.value, RetryableError)


def test_sqlite_savepoint_release_does_not_commit_the_transaction(tmp_path: Path) -> None:
    # pysqlite on its own emits no BEGIN before a SELECT or SAVEPOINT, so the savepoint would
    # become the transaction and its RELEASE would commit it: effects durable before the
    # rest of the transaction (the consumer loop's processed id) and never rolled back.
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with session_scope(engine) as session:
        session.execute(text("CREATE TABLE t (v INTEGER)"))
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        session.execute(text("SELECT count(*) FROM t"))
        with session.begin_nested():
            session.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("crash before the commit")
    with session_scope(engine, read_only=True) as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0
    engine.dispose()


def test_a_read_only_session_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with session_scope(engine) as session:
        session.execute(text("CREATE TABLE t (v INTEGER)"))
    with session_scope(engine) as writer:  # holds the write lock until the end of the block
        writer.execute(text("INSERT INTO t VALUES (1)"))
        with session_scope(engine, read_only=True) as reader:
            assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0
    with session_scope(engine, read_only=True) as reader:
        assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 1
    engine.dispose()
