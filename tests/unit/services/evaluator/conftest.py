"""A migrated evaluator database (SQLite) for the handler, planning and job tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from ringrift.storage import migrations
from ringrift.storage.database import make_engine


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    migrations.upgrade_to_head(sqlite_url, "evaluator")
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()
