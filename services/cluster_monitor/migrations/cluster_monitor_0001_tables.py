"""The cluster monitor's tables: nodes, pressure changes, the last status published
(services/cluster_monitor/tables.py).

Revision ID: cluster_monitor_0001_tables
Revises: (a new root: the cluster_monitor branch)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "cluster_monitor_0001_tables"
down_revision = None
branch_labels = ("cluster_monitor",)
# The library's runtime tables come first (processed ids, outbox, jobs) in every service database.
depends_on = "0003_outbox_jobs"

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("node_id", sa.String(253), primary_key=True),
        sa.Column("heartbeat_at", _TIME, nullable=False),
        sa.Column("interval_s", sa.Float(), nullable=False),
        sa.Column("report", sa.LargeBinary(), nullable=False),
        sa.Column("disk_level", sa.Integer(), nullable=False),
        sa.Column("memory_level", sa.Integer(), nullable=False),
        sa.Column("cpu_level", sa.Integer(), nullable=False),
        sa.Column("gpu_memory_level", sa.Integer(), nullable=False),
        sa.Column("lost", sa.Boolean(), nullable=False),
        sa.Column("lost_since", _TIME, nullable=True),
    )
    op.create_table(
        "pressure_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("node_id", sa.String(253), nullable=False),
        sa.Column("resource", sa.String(32), nullable=False),
        sa.Column("old_level", sa.Integer(), nullable=False),
        sa.Column("new_level", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("changed_at", _TIME, nullable=False),
    )
    op.create_index("ix_pressure_changes_node_id", "pressure_changes", ["node_id"])
    op.create_table(
        "status_publications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("published_at", _TIME, nullable=False),
        sa.Column("publications", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("status_publications")
    op.drop_index("ix_pressure_changes_node_id", table_name="pressure_changes")
    op.drop_table("pressure_changes")
    op.drop_table("nodes")
