"""A service's own database on a real PostgreSQL server, as deploy makes it.

Checks: ``ringrift db upgrade --service example`` creates the service's database when it
is missing, migrates the library's runtime tables and the service's own branch, and
the runtime's start-up check accepts it; a second run changes nothing; a role that may
not create databases gets an error with the SQL an administrator must run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from ringrift.cli.main import build_parser
from ringrift.errors import ConfigurationError
from ringrift.storage import migrations
from ringrift.storage.database import make_engine
from services.example import tables as example_tables
from tests.utils.schema import schema_differences

pytestmark = pytest.mark.postgres


def _admin(server_url: str) -> str:
    return make_url(server_url).set(drivername="postgresql", database="postgres") \
        .render_as_string(hide_password=False)


@pytest.fixture
def missing_database_url(postgres_server_url: str) -> Iterator[str]:
    """The URL of a database that does not exist yet (dropped again after the test)."""
    name = f"test_service_{uuid.uuid4().hex[:10]}"
    yield make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(_admin(postgres_server_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _ringrift(*argv: str) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


def test_upgrade_creates_and_migrates_the_service_database(missing_database_url: str,
                                                           capsys) -> None:
    name = make_url(missing_database_url).database
    assert _ringrift("db", "upgrade", "--service", "example",
                     "--database-url", missing_database_url) == 0
    assert f"created database {name}" in capsys.readouterr().out
    migrations.check_at_head(missing_database_url, "example")
    engine = make_engine(missing_database_url)
    try:
        assert {"processed_events", "game_counts"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert schema_differences(missing_database_url, example_tables.Base) == []

    assert _ringrift("db", "upgrade", "--service", "example",
                     "--database-url", missing_database_url) == 0
    assert "created database" not in capsys.readouterr().out


def test_a_role_that_may_not_create_databases_is_told_the_sql(
        postgres_server_url: str, missing_database_url: str) -> None:
    role = f"test_role_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_admin(postgres_server_url), autocommit=True) as connection:
        connection.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'pw' NOCREATEDB")
    try:
        url = make_url(missing_database_url).set(username=role, password="pw") \
            .render_as_string(hide_password=False)
        with pytest.raises(ConfigurationError, match=r"may not create it.*CREATE DATABASE"):
            migrations.create_database_if_missing(url)
    finally:
        with psycopg.connect(_admin(postgres_server_url), autocommit=True) as connection:
            connection.execute(f"DROP ROLE {role}")
