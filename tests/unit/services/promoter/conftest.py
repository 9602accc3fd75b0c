"""A migrated promoter database (SQLite) and an artifact store for the handler tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ringrift.storage import migrations
from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.storage.database import make_engine


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    migrations.upgrade_to_head(sqlite_url, "promoter")
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(tmp_path: Path) -> DirectoryArtifactStore:
    return DirectoryArtifactStore(tmp_path / "artifacts")
