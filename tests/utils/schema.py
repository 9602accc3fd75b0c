"""Does a migrated database match the ORM models? One check for the library and every service.

A service's database holds the library's tables (``ringrift.storage.database.Base``) and
the service's own (its ``tables.Base``); ``schema_differences`` compares the database with
both at once, so a migration that forgets a column or an index fails its service's test.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from ringrift.storage.database import Base, make_engine
from ringrift.storage.migrations import env_model_modules


def schema_differences(url: str, *service_bases: type[DeclarativeBase]) -> list[Any]:
    """Alembic's autogenerate differences between the database and the models (empty: equal)."""
    env_model_modules()  # the library's tables are all declared on Base
    combined = MetaData()
    for metadata in (Base.metadata, *(base.metadata for base in service_bases)):
        for table in metadata.tables.values():
            table.to_metadata(combined)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), combined))
    finally:
        engine.dispose()
