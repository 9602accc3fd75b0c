"""The curriculum's tables: configs, evaluations, rating samples, weight publications
(services/curriculum/tables.py).

Revision ID: curriculum_0001_tables
Revises: (a new root: the curriculum branch)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "curriculum_0001_tables"
down_revision = None
branch_labels = ("curriculum",)
# The library's runtime tables come first (processed ids, outbox, jobs) in every service database.
depends_on = "0003_outbox_jobs"

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "configs",
        sa.Column("config_key", sa.String(32), primary_key=True),
        sa.Column("model_id", sa.String(128), nullable=False),
        sa.Column("promoted_at", _TIME, nullable=True),
        sa.Column("first_seen_at", _TIME, nullable=False),
        sa.Column("evaluations", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.Text(), nullable=False),
    )
    op.create_table(
        "evaluations",
        sa.Column("evaluation_id", sa.String(64), primary_key=True),
        sa.Column("config_key", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(128), nullable=False),
        sa.Column("elo", sa.Float(), nullable=False),
        sa.Column("completed_at", _TIME, nullable=False),
    )
    op.create_table(
        "rating_samples",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("config_key", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(128), nullable=False),
        sa.Column("elo", sa.Float(), nullable=False),
        sa.Column("stderr", sa.Float(), nullable=False),
        sa.Column("sampled_at", _TIME, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
    )
    op.create_index("ix_rating_samples_config", "rating_samples", ["config_key", "sampled_at"])
    op.create_table(
        "weight_publications",
        sa.Column("revision", sa.Integer(), primary_key=True),
        sa.Column("computed_at", _TIME, nullable=False),
        sa.Column("policy", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("cause", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("weight_publications")
    op.drop_index("ix_rating_samples_config", table_name="rating_samples")
    op.drop_table("rating_samples")
    op.drop_table("evaluations")
    op.drop_table("configs")
