"""Migrations and the artifact index on a real PostgreSQL server (and SQLite alike).

Checks, on both backends through the ``database_url`` fixture: upgrade to head
and downgrade to base; the migrated schema matches the ORM models; recording
the same artifact from several sessions at once leaves one row and no error.
On PostgreSQL only: the per-test databases of the factory are separate (a table
made in one is absent from the other); ``ringrift db upgrade`` waits for and
migrates the database named by ``DATABASE_URL``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from ringrift.cli.main import build_parser
from ringrift.storage import migrations
from ringrift.storage.artifact_index import list_artifacts, record_artifact
from ringrift.storage.artifacts import ArtifactRef
from ringrift.storage.database import Base, make_engine, session_scope


def test_upgrade_and_downgrade(database_url: str) -> None:
    migrations.upgrade_to_head(database_url)
    assert migrations.current_revision(database_url) == migrations.head_revision()
    engine = make_engine(database_url)
    assert "artifacts" in inspect(engine).get_table_names()

    migrations.downgrade(database_url, "base")
    assert migrations.current_revision(database_url) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    migrations.upgrade_to_head(database_url)
    engine = make_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_concurrent_records_of_one_artifact_keep_one_row(database_url: str) -> None:
    migrations.upgrade_to_head(database_url)
    engine = make_engine(database_url)
    ref = ArtifactRef(uri="file:///store/sha256/ab/" + "ab" * 32, sha256="ab" * 32, size=3)

    def record(_: int) -> None:
        with session_scope(engine) as session:
            record_artifact(session, ref, "model")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(record, range(12)))
    with session_scope(engine) as session:
        assert [r.ref() for r in list_artifacts(session)] == [ref]
    engine.dispose()


@pytest.mark.postgres
def test_factory_databases_are_isolated(postgres_database_factory: Callable[[], str]) -> None:
    first, second = postgres_database_factory(), postgres_database_factory()
    assert first != second
    engine = make_engine(first)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE only_here (v INTEGER)"))
    engine.dispose()
    other = make_engine(second)
    assert "only_here" not in inspect(other).get_table_names()
    other.dispose()


@pytest.mark.postgres
def test_db_upgrade_command_uses_database_url(postgres_url: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    args = build_parser().parse_args(["db", "upgrade", "--wait", "5"])
    assert args.func(args) == 0
    assert migrations.current_revision(postgres_url) == migrations.head_revision()
