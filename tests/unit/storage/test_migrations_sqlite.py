"""Alembic migrations and the artifact index on SQLite, the embedded backend.

Checks: the first revision is ``0001_initial`` and the chain has one head;
upgrade to head creates the artifact index and records the revision, a second
upgrade is a no-op, downgrade to base removes every table; the migrated schema
matches the ORM models (no pending autogenerate changes); recording an artifact
twice keeps one row; lookups and listing by kind work; ``ringrift db`` upgrades,
reports and downgrades through the CLI.
"""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from ringrift.cli.main import build_parser
from ringrift.storage import migrations
from ringrift.storage.artifact_index import find_artifact, list_artifacts, record_artifact
from ringrift.storage.artifacts import ArtifactRef
from ringrift.storage.database import Base, make_engine, session_scope


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_revision_chain_starts_at_0001_initial() -> None:
    scripts = ScriptDirectory.from_config(migrations.alembic_config("sqlite://"))
    assert len(scripts.get_heads()) == 1
    assert scripts.get_base() == "0001_initial"
    assert migrations.head_revision() == scripts.get_current_head()


def test_upgrade_and_downgrade(sqlite_url: str) -> None:
    assert migrations.current_revision(sqlite_url) is None

    migrations.upgrade_to_head(sqlite_url)
    assert migrations.current_revision(sqlite_url) == migrations.head_revision()
    assert "artifacts" in _tables(sqlite_url)
    migrations.upgrade_to_head(sqlite_url)  # already there: nothing to do
    assert migrations.current_revision(sqlite_url) == migrations.head_revision()

    migrations.downgrade(sqlite_url, "base")
    assert migrations.current_revision(sqlite_url) is None
    assert _tables(sqlite_url) <= {"alembic_version"}


def test_migrated_schema_matches_the_models(sqlite_url: str) -> None:
    migrations.upgrade_to_head(sqlite_url)
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_artifact_index(sqlite_url: str) -> None:
    migrations.upgrade_to_head(sqlite_url)
    engine = make_engine(sqlite_url)
    model = ArtifactRef(uri="file:///a/sha256/aa/" + "a" * 64, sha256="a" * 64, size=10)
    shard = ArtifactRef(uri="file:///a/sha256/bb/" + "b" * 64, sha256="b" * 64, size=20)
    with session_scope(engine) as session:
        record_artifact(session, model, "model")
        record_artifact(session, shard, "shard")
    with session_scope(engine) as session:
        record_artifact(session, model, "model")  # a redelivery: no second row, no error

    with session_scope(engine) as session:
        assert find_artifact(session, "a" * 64) == model
        assert find_artifact(session, "c" * 64) is None
        assert [r.sha256 for r in list_artifacts(session)] == ["a" * 64, "b" * 64]
        assert [r.ref() for r in list_artifacts(session, kind="shard")] == [shard]
    engine.dispose()


def _ringrift(*argv: str) -> int:
    # The handler itself, not main(): main() would reconfigure logging under pytest.
    args = build_parser().parse_args(argv)
    return args.func(args)


def test_db_cli_round_trip(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _ringrift("db", "upgrade", "--database-url", sqlite_url) == 0
    assert _ringrift("db", "current", "--database-url", sqlite_url) == 0
    assert f"current: {migrations.head_revision()}" in capsys.readouterr().out
    assert _ringrift("db", "downgrade", "base", "--database-url", sqlite_url) == 0
    assert migrations.current_revision(sqlite_url) is None
