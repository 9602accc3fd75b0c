"""Alembic's environment: runs migrations online against the URL the caller gives.

Called by Alembic, never imported by the project. ``MODEL_MODULES`` lists the
modules that declare tables, so that ``--autogenerate`` sees all of them.
"""

from __future__ import annotations

import importlib

from alembic import context

from ringrift.storage.database import Base, make_engine

MODEL_MODULES = (
    "ringrift.storage.artifact_index",
    "ringrift.events.idempotency",
)

for module in MODEL_MODULES:
    importlib.import_module(module)

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
