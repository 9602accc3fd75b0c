"""The trainer's tables: the window table of shards and the training runs (services/trainer/tables.py).

Revision ID: trainer_0001_tables
Revises: (a new root: the trainer branch)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "trainer_0001_tables"
down_revision = None
branch_labels = ("trainer",)
# The library's runtime tables come first (processed ids, outbox, jobs) in every service database.
depends_on = "0003_outbox_jobs"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "shards",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("shard_id", sa.String(200), nullable=False, unique=True),
        sa.Column("config_key", sa.String(32), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("num_samples", sa.BigInteger(), nullable=False),
        sa.Column("num_games", sa.Integer(), nullable=False),
        sa.Column("encoder_version", sa.Integer(), nullable=False),
        sa.Column("source_model_ids", sa.JSON(), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unusable", sa.Text(), nullable=True),
        sa.Column("spent_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_shards_config_id", "shards", ["config_key", "id"])
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("config_key", sa.String(32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("samples_total", sa.BigInteger(), nullable=False),
        sa.Column("shard_ids", sa.JSON(), nullable=False),
        sa.Column("window_rows", sa.BigInteger(), nullable=False),
        sa.Column("desired_rows", sa.BigInteger(), nullable=False),
        sa.Column("usable_rows", sa.BigInteger(), nullable=False),
        sa.Column("parent_model_id", sa.String(64), nullable=True),
        sa.Column("parent_uri", sa.Text(), nullable=True),
        sa.Column("parent_sha256", sa.String(64), nullable=True),
        sa.Column("trigger_shard_id", sa.String(200), nullable=False),
        sa.Column("trigger_published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("triggered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("start_steps", sa.JSON(), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=True),
        sa.Column("steps", sa.Integer(), nullable=True),
        sa.Column("model_id", sa.String(64), nullable=True),
        sa.Column("weights_uri", sa.Text(), nullable=True),
        sa.Column("weights_sha256", sa.String(64), nullable=True),
        sa.Column("train_seconds", sa.Float(), nullable=True),
        sa.Column("train_step", sa.BigInteger(), nullable=True),
        sa.Column("samples_seen", sa.BigInteger(), nullable=True),
        sa.Column("losses", sa.JSON(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("evaluation_id", sa.String(64), nullable=True),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("config_key", "number", name="uq_runs_config_number"),
    )
    op.create_index("ix_runs_model_id", "runs", ["model_id"])


def downgrade() -> None:
    op.drop_index("ix_runs_model_id", table_name="runs")
    op.drop_table("runs")
    op.drop_index("ix_shards_config_id", table_name="shards")
    op.drop_table("shards")
