"""The exporter's tables: games, queue totals, shards (services/exporter/tables.py).

Revision ID: exporter_0001_tables
Revises: (a new root: the exporter branch)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "exporter_0001_tables"
down_revision = None
branch_labels = ("exporter",)
# The library's runtime tables come first (processed ids, outbox, jobs) in every service database.
depends_on = "0003_outbox_jobs"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "games",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("game_id", sa.String(128), nullable=False, unique=True),
        sa.Column("config_key", sa.String(32), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("content_encoding", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("record_sha256", sa.String(64), nullable=False),
        sa.Column("num_moves", sa.Integer(), nullable=False),
        sa.Column("num_samples", sa.Integer(), nullable=False),
        sa.Column("seat_model_ids", sa.Text(), nullable=False),
        sa.Column("produced_at", _TIME, nullable=False),
        sa.Column("stored_at", _TIME, nullable=False),
        sa.Column("shard_id", sa.String(128), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_games_queue", "games", ["config_key", "origin", "status", "id"])
    op.create_index("ix_games_shard", "games", ["shard_id"])
    op.create_table(
        "queue_totals",
        sa.Column("config_key", sa.String(32), primary_key=True),
        sa.Column("origin", sa.String(16), primary_key=True),
        sa.Column("games_sharded", sa.BigInteger(), nullable=False),
        sa.Column("shards_written", sa.Integer(), nullable=False),
    )
    op.create_table(
        "shards",
        sa.Column("shard_id", sa.String(128), primary_key=True),
        sa.Column("config_key", sa.String(32), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("num_samples", sa.BigInteger(), nullable=False),
        sa.Column("num_games", sa.Integer(), nullable=False),
        sa.Column("encoder_version", sa.Integer(), nullable=False),
        sa.Column("source_model_ids", sa.Text(), nullable=False),
        sa.Column("first_game_id", sa.String(128), nullable=False),
        sa.Column("last_game_id", sa.String(128), nullable=False),
        sa.Column("window_end_sequence", sa.BigInteger(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("oldest_produced_at", _TIME, nullable=False),
        sa.Column("newest_produced_at", _TIME, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
    )
    op.create_index("ix_shards_config", "shards", ["config_key", "origin", "window_end_sequence"])


def downgrade() -> None:
    op.drop_table("shards")
    op.drop_table("queue_totals")
    op.drop_index("ix_games_shard", table_name="games")
    op.drop_index("ix_games_queue", table_name="games")
    op.drop_table("games")
