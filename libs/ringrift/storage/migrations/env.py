"""Alembic's environment: runs migrations online against the URL the caller gives.

Called by Alembic, never imported by the project. One environment serves the library's
trunk and every service's branch: which revisions exist is decided by the version
locations of :func:`ringrift.storage.migrations.alembic_config` (the trunk, plus one
service's ``services/<module>/migrations/``). The target metadata is the library's
``Base`` with every module of ``MODEL_MODULES`` imported; service tables live on their
own declarative bases and their migrations are written by hand.
"""

from __future__ import annotations

from alembic import context

from ringrift.storage.database import Base, make_engine
from ringrift.storage.migrations import env_model_modules

env_model_modules()

config = context.config
engine = make_engine(config.attributes["url"])
try:
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
finally:
    engine.dispose()
