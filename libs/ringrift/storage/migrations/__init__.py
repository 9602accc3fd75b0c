"""Alembic migrations of the project's tables, run from code or ``ringrift db``.

The Alembic environment lives here, beside the models, and needs no
``alembic.ini``: :func:`alembic_config` builds the configuration in code, so
services, tests and the CLI all migrate the same way. Revisions are in
``versions/`` and chain from ``0001_initial``; add one with
``ringrift db revision -m "what changes" --rev-id 000N_what``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ringrift.storage.database import make_engine, normalise_url

HERE = Path(__file__).parent


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the database at ``url``."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    # Passed as an attribute, not an option: the option parser would read % in a password.
    config.attributes["url"] = normalise_url(url)
    return config


def upgrade_to_head(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (a no-op when it is there)."""
    upgrade(url, "head")


def upgrade(url: str, revision: str) -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Go back to ``revision`` (``base`` drops every table the migrations made)."""
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    """The revision the database is at; None before the first migration."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision in ``versions/``."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
