"""The selfplay service's first table: a durable game sequence per replica (tables.py).

Revision ID: selfplay_0001_game_sequences
Revises: (a new root: the selfplay branch)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "selfplay_0001_game_sequences"
down_revision = None
branch_labels = ("selfplay",)
# The library's runtime tables come first (processed ids, outbox) in every service database.
depends_on = "0003_outbox_jobs"


def upgrade() -> None:
    op.create_table(
        "game_sequences",
        sa.Column("replica_id", sa.String(200), primary_key=True),
        sa.Column("next_sequence", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("game_sequences")
