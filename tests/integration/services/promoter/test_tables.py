"""The promoter's migration on SQLite and PostgreSQL: the tables are exactly the models.

Checks: after ``upgrade_to_head`` the database matches the library's and the promoter's
models (no missing column or index, the live-name unique index included); a second live
token of one name is refused by the database itself; ``promoter@base`` drops the
promoter's tables and leaves the library's.
"""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from ringrift.storage import migrations
from ringrift.storage.database import make_engine, session_scope
from services.promoter import tables
from services.promoter.registry import now
from tests.utils.schema import schema_differences


def test_the_migration_makes_the_models_tables(database_url: str) -> None:
    migrations.upgrade_to_head(database_url, "promoter")
    assert schema_differences(database_url, tables.Base) == []
    engine = make_engine(database_url)
    try:
        with pytest.raises(IntegrityError), session_scope(engine) as session:
            for digest in ("a" * 64, "b" * 64):
                session.add(tables.ApiToken(name="alice", role="reader", token_hash=digest,
                                            created_at=now()))
                session.flush()
        migrations.downgrade(database_url, "promoter@base", "promoter")
        left = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert not left & set(tables.Base.metadata.tables)
    assert {"outbox", "processed_events"} <= left
