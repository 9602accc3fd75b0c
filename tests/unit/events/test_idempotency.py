"""The processed-events store: created by the migrations, keyed by group and event id.

Checks: ``0002_processed_events`` creates the table; an id recorded by one group is
processed for that group only; a batch lookup finds the recorded ones; recording an id twice fails, so of two racing consumers
only one transaction commits; a rolled-back transaction records nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from ringrift.events.idempotency import already_processed, mark_processed, processed_among
from ringrift.storage import migrations
from ringrift.storage.database import make_engine, session_scope


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    migrations.upgrade_to_head(url)
    return url


def test_migration_creates_the_table(url: str) -> None:
    assert "processed_events" in inspect(make_engine(url)).get_table_names()


def test_ids_are_scoped_by_group_and_recorded_once(url: str) -> None:
    engine = make_engine(url)
    with session_scope(engine) as session:
        mark_processed(session, "exporter", ["e1"])
    with session_scope(engine) as session:
        assert already_processed(session, "exporter", "e1")
        assert not already_processed(session, "trainer", "e1")
        assert not already_processed(session, "exporter", "e2")
        mark_processed(session, "exporter", ["e2", "e3"])
        assert processed_among(session, "exporter", ["e1", "e3", "e4"]) == {"e1", "e3"}
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        mark_processed(session, "exporter", ["e1"])


def test_rolled_back_transaction_records_nothing(url: str) -> None:
    engine = make_engine(url)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        mark_processed(session, "exporter", ["e1"])
        raise RuntimeError("handler failed after recording")
    with session_scope(engine) as session:
        assert not already_processed(session, "exporter", "e1")
