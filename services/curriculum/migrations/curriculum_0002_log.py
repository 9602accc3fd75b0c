"""The curriculum's tables become a log: each evaluation keeps its ratings, promotions get a
table of their own; the per-config state and the rating samples go (the weights' inputs
are recomputed from the log, so the order the two topics deliver in does not matter).

A database migrated to curriculum_0001 keeps what it knew: each config's current model
becomes one promotion (its event id ``migrated-<config>``), and its latest ratings go to
its latest evaluation; evaluations before that get none (0001 kept only the latest).

Revision ID: curriculum_0002_log
Revises: curriculum_0001_tables
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "curriculum_0002_log"
down_revision = "curriculum_0001_tables"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # A default only while the rows that exist get their value; the models have none.
    with op.batch_alter_table("evaluations") as batch:
        batch.add_column(sa.Column("ratings", sa.Text(), nullable=False, server_default="{}"))
    with op.batch_alter_table("evaluations") as batch:
        batch.alter_column("ratings", server_default=None)
    op.create_index("ix_evaluations_config", "evaluations", ["config_key", "completed_at"])
    op.create_table(
        "promotions",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("config_key", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(128), nullable=False),
        sa.Column("promoted_at", _TIME, nullable=False),
    )
    op.create_index("ix_promotions_config", "promotions", ["config_key", "promoted_at"])
    op.execute("INSERT INTO promotions (event_id, config_key, model_id, promoted_at) "
               "SELECT 'migrated-' || config_key, config_key, model_id, promoted_at "
               "FROM configs WHERE model_id <> '' AND promoted_at IS NOT NULL")
    op.execute("UPDATE evaluations SET ratings = (SELECT c.ratings FROM configs c "
               "WHERE c.config_key = evaluations.config_key) "
               "WHERE completed_at = (SELECT max(e.completed_at) FROM evaluations e "
               "WHERE e.config_key = evaluations.config_key) "
               "AND EXISTS (SELECT 1 FROM configs c WHERE c.config_key = evaluations.config_key)")
    op.drop_index("ix_rating_samples_config", table_name="rating_samples")
    op.drop_table("rating_samples")
    op.drop_table("configs")


def downgrade() -> None:
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
    # Rating samples are not rebuilt: 0001's curriculum takes new ones as events arrive.
    op.execute("INSERT INTO configs (config_key, model_id, promoted_at, first_seen_at, "
               "evaluations, ratings) SELECT e.config_key, "
               "coalesce((SELECT p.model_id FROM promotions p WHERE p.config_key = e.config_key "
               "ORDER BY p.promoted_at DESC LIMIT 1), ''), "
               "(SELECT max(p.promoted_at) FROM promotions p WHERE p.config_key = e.config_key), "
               "min(e.completed_at), count(*), '{}' FROM evaluations e GROUP BY e.config_key")
    op.drop_index("ix_promotions_config", table_name="promotions")
    op.drop_table("promotions")
    op.drop_index("ix_evaluations_config", table_name="evaluations")
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_column("ratings")
