"""The trainer's migrations build exactly its models' tables, on SQLite and PostgreSQL, and
its branch can be taken down alone."""

from __future__ import annotations

from sqlalchemy import inspect

from ringrift.storage import migrations
from ringrift.storage.database import make_engine
from services.trainer import tables
from tests.utils.schema import schema_differences


def test_the_migrated_database_matches_the_models(database_url: str) -> None:
    migrations.upgrade_to_head(database_url, "trainer")
    assert schema_differences(database_url, tables.Base) == []
    migrations.check_at_head(database_url, "trainer")

    migrations.downgrade(database_url, "trainer@base", "trainer")
    engine = make_engine(database_url)
    try:
        names = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert not names & {"shards", "runs"}
    assert {"outbox", "processed_events", "jobs"} <= names
