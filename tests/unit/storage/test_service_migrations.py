"""Per-service databases: the library trunk plus one service's branch, on SQLite.

Checks: a service's version locations are the trunk and its own folder only; upgrading a
service database creates the library's runtime tables and the service's own, at every
head, matching the models; the start-up check accepts it and refuses an empty database,
one with only the library's tables, and one migrated by a newer build, each time naming
what to run; a service's tables can be dropped alone (``NAME@base``); ``ringrift db
upgrade|current --service`` find the database through ``RINGRIFT_<SERVICE>_DATABASE_URL``;
``ringrift db revision --service`` starts a branch (label, root, dependency on the trunk)
and then chains on it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from ringrift.cli.main import build_parser
from ringrift.errors import ConfigurationError
from ringrift.service.names import ServiceName
from ringrift.storage import migrations
from ringrift.storage.database import make_engine
from ringrift.storage.migrations import SchemaOutOfDate
from services.example import tables as example_tables
from tests.utils.schema import schema_differences


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _ringrift(*argv: str) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


def test_a_service_sees_the_trunk_and_its_own_branch_only() -> None:
    assert migrations.version_locations(None) == [migrations.LIBRARY_VERSIONS]
    example = migrations.version_locations("example")
    assert example == [migrations.LIBRARY_VERSIONS, ServiceName("example").migrations_dir()]
    heads = migrations.head_revisions("example")
    assert heads == tuple(sorted((migrations.head_revision(), "example_0001_game_counts")))


def test_upgrade_makes_the_runtime_tables_and_the_services_own(sqlite_url: str) -> None:
    migrations.upgrade_to_head(sqlite_url, "example")
    assert {"processed_events", "artifacts", "game_counts"} <= _tables(sqlite_url)
    # The service's tip implies the trunk revision it depends on.
    assert migrations.current_heads(sqlite_url) == ("example_0001_game_counts",)
    assert schema_differences(sqlite_url, example_tables.Base) == []
    migrations.check_at_head(sqlite_url, "example")

    migrations.downgrade(sqlite_url, "example@base", "example")
    assert "game_counts" not in _tables(sqlite_url)
    assert "processed_events" in _tables(sqlite_url)


def test_the_start_check_refuses_an_old_database_and_names_the_fix(sqlite_url: str) -> None:
    with pytest.raises(SchemaOutOfDate, match="no revision .empty.") as empty:
        migrations.check_at_head(sqlite_url, "example")
    assert "ringrift db upgrade --service example" in str(empty.value)
    assert "RINGRIFT_EXAMPLE_DATABASE_URL" in str(empty.value)

    migrations.upgrade_to_head(sqlite_url)  # the library's tables, not the service's
    with pytest.raises(SchemaOutOfDate, match="example_0001_game_counts") as trunk_only:
        migrations.check_at_head(sqlite_url, "example")
    assert "ringrift db upgrade --service example" in str(trunk_only.value)


def test_the_start_check_refuses_a_database_of_a_newer_build(sqlite_url: str) -> None:
    migrations.upgrade_to_head(sqlite_url, "example")
    engine = make_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'example_0009_future'"
                                " WHERE version_num = 'example_0001_game_counts'"))
    engine.dispose()
    with pytest.raises(SchemaOutOfDate, match="example_0009_future.*newer build"):
        migrations.check_at_head(sqlite_url, "example")


def test_db_commands_find_the_service_database_through_its_env(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> None:
    url = f"sqlite:///{tmp_path / 'db' / 'example.db'}"
    monkeypatch.setenv("RINGRIFT_EXAMPLE_DATABASE_URL", url)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'global.db'}")
    assert _ringrift("db", "current", "--service", "example") == 0
    assert "not up to date" in capsys.readouterr().out
    assert _ringrift("db", "upgrade", "--service", "example") == 0
    assert "game_counts" in _tables(url)
    assert not (tmp_path / "global.db").exists()
    capsys.readouterr()
    assert _ringrift("db", "current", "--service", "example") == 0
    assert capsys.readouterr().out.rstrip().endswith("up to date")


def test_revision_starts_a_branch_then_chains_on_it(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "services" / "demo"
    package.mkdir(parents=True)
    (package / "__init__.py").touch()
    monkeypatch.setattr(ServiceName, "package_dir", lambda self: package)

    first = migrations.new_revision("first tables", "demo_0001_first", "demo")
    assert first == package / "migrations" / "demo_0001_first.py"
    source = first.read_text()
    assert "down_revision = None" in source
    assert "branch_labels = ('demo',)" in source
    assert f"depends_on = {migrations.head_revision()!r}" in source
    second = migrations.new_revision("more", "demo_0002_more", "demo").read_text()
    assert "down_revision = 'demo_0001_first'" in second
    assert "branch_labels = None" in second
    assert migrations.head_revisions("demo") == tuple(sorted((migrations.head_revision(),
                                                              "demo_0002_more")))
    with pytest.raises(ConfigurationError, match="start with demo_"):
        migrations.new_revision("badly named", "0003_more", "demo")
