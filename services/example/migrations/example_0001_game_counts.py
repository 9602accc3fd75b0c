"""The example service's first table: games seen per config (services/example/tables.py).

Revision ID: example_0001_game_counts
Revises: (a new root: the example branch)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "example_0001_game_counts"
down_revision = None
branch_labels = ("example",)
# The library's runtime tables come first (processed ids, outbox) in every service database.
depends_on = "0003_outbox_jobs"


def upgrade() -> None:
    op.create_table(
        "game_counts",
        sa.Column("config_key", sa.String(32), primary_key=True),
        sa.Column("games", sa.Integer(), nullable=False),
        sa.Column("last_game_id", sa.String(64), nullable=False),
        sa.Column("current_model_id", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("game_counts")
