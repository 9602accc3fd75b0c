"""The selfplay service's migrations and its game sequence, on SQLite and PostgreSQL.

Checks: ``upgrade_to_head`` for the service leaves a database equal to the models (library
tables and ``game_sequences``) and at every head; two transactions numbering games of one
replica one after the other get consecutive, never overlapping numbers.
"""

from __future__ import annotations

from ringrift.storage import migrations
from ringrift.storage.database import make_engine, session_scope
from services.selfplay import tables
from services.selfplay.handlers import take_sequence
from tests.utils.schema import schema_differences


def test_the_migrated_database_matches_the_models(database_url: str) -> None:
    migrations.upgrade_to_head(database_url, "selfplay")
    assert schema_differences(database_url, tables.Base) == []
    migrations.check_at_head(database_url, "selfplay")
    assert "selfplay_0001_game_sequences" in migrations.current_heads(database_url)


def test_numbers_continue_across_transactions(database_url: str) -> None:
    migrations.upgrade_to_head(database_url, "selfplay")
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            assert take_sequence(session, "r", 3) == 0
        with session_scope(engine) as session:
            assert take_sequence(session, "r", 2) == 3
            assert take_sequence(session, "other", 1) == 0
        with session_scope(engine) as session:
            assert take_sequence(session, "r", 1) == 5
    finally:
        engine.dispose()
