"""The curriculum's migrations, on SQLite and PostgreSQL: a database at curriculum_0001
(per-config state and rating samples) upgraded to the log keeps its current models as
promotions and its latest ratings on the latest evaluation, matches the models, and goes
down to 0001 and to the branch's base again."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import inspect, text

from ringrift.storage import migrations
from ringrift.storage.database import make_engine
from services.curriculum import tables
from tests.utils.schema import schema_differences

EARLY, LATE = datetime(2026, 11, 30, 8, tzinfo=UTC), datetime(2026, 11, 30, 9, tzinfo=UTC)


def test_a_0001_database_upgrades_to_the_log_and_down_again(database_url: str) -> None:
    migrations.upgrade(database_url, "curriculum_0001_tables", "curriculum")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO configs (config_key, model_id, promoted_at, first_seen_at, "
                "evaluations, ratings) VALUES ('square8_2p', 'm1', :late, :early, 2, :ratings), "
                "('hex8_2p', '', NULL, :early, 1, '{}')"),
                {"early": EARLY, "late": LATE, "ratings": json.dumps({"m1": [120.0, 20.0]})})
            connection.execute(text(
                "INSERT INTO evaluations (evaluation_id, config_key, model_id, elo, completed_at) "
                "VALUES ('ev-s1', 'square8_2p', 'm0', 50, :early), "
                "('ev-s2', 'square8_2p', 'm1', 120, :late), ('ev-h1', 'hex8_2p', 'h1', 5, :early)"),
                {"early": EARLY, "late": LATE})

        migrations.upgrade_to_head(database_url, "curriculum")
        assert schema_differences(database_url, tables.Base) == []
        migrations.check_at_head(database_url, "curriculum")
        with engine.connect() as connection:
            promotions = connection.execute(text(
                "SELECT event_id, config_key, model_id FROM promotions")).all()
            ratings = dict(connection.execute(text(
                "SELECT evaluation_id, ratings FROM evaluations")).all())
        assert [tuple(row) for row in promotions] == [("migrated-square8_2p", "square8_2p", "m1")]
        assert json.loads(ratings["ev-s2"]) == {"m1": [120.0, 20.0]}
        assert ratings["ev-s1"] == ratings["ev-h1"] == "{}"

        migrations.downgrade(database_url, "curriculum_0001_tables", "curriculum")
        with engine.connect() as connection:
            configs = connection.execute(text(
                "SELECT config_key, model_id, evaluations FROM configs "
                "ORDER BY config_key")).all()
        assert [tuple(row) for row in configs] == [("hex8_2p", "", 1), ("square8_2p", "m1", 2)]
        migrations.downgrade(database_url, "curriculum@base", "curriculum")
        engine.dispose()  # PostgreSQL's inspector must see the dropped tables
        names = set(inspect(engine).get_table_names())
        assert not names & {"configs", "evaluations", "promotions", "weight_publications"}
        assert {"outbox", "processed_events"} <= names
    finally:
        engine.dispose()
