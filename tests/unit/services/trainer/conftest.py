"""Fixtures of the trainer's unit tests: migrated databases and settings to vary.

``engine`` is a migrated trainer database on SQLite and on PostgreSQL in turn (the handlers'
queries run on both); ``sqlite_engine`` is one on SQLite only, for the tests that train.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from ringrift.storage import migrations
from ringrift.storage.database import make_engine
from services.trainer.settings import TrainerSettings


def _migrated(url: str) -> Iterator[Engine]:
    migrations.upgrade_to_head(url, "trainer")
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    yield from _migrated(database_url)


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    yield from _migrated(sqlite_url)


@pytest.fixture
def make_settings(tmp_path) -> Callable[..., TrainerSettings]:
    """Trainer settings for small data: 100 samples a candidate, windows from 100 rows."""
    def make(**values: Any) -> TrainerSettings:
        defaults: dict[str, Any] = {
            "samples_per_candidate": 100, "window_min_rows": 100, "window_max_rows": 10_000,
            "train_samples": 64, "batch_size": 16, "checkpoint_every": 2, "preset": "tiny",
            "device": "cpu", "work_dir": str(tmp_path / "work"), "database_url": "sqlite://"}
        return TrainerSettings(**(defaults | values))
    return make
