"""The evaluator's tables: candidates, evaluations, the match log, first promotions (tables.py).

Revision ID: evaluator_0001_match_log
Revises: (a new root: the evaluator branch)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "evaluator_0001_match_log"
down_revision = None
branch_labels = ("evaluator",)
# The library's runtime tables come first (processed ids, outbox, jobs).
depends_on = "0003_outbox_jobs"

ID = sa.String(64)
CONFIG = sa.String(32)
EVALUATION = sa.String(32)


def when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "candidates",
        sa.Column("model_id", ID, primary_key=True),
        sa.Column("config_key", CONFIG, nullable=False),
        sa.Column("weights_uri", sa.Text(), nullable=False),
        sa.Column("weights_sha256", sa.String(64), nullable=False),
        sa.Column("weights_size", sa.BigInteger(), nullable=False),
        sa.Column("architecture", sa.String(64), nullable=False),
        when("received_at"),
    )
    op.create_table(
        "evaluations",
        sa.Column("evaluation_id", EVALUATION, primary_key=True),
        sa.Column("config_key", CONFIG, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("model_id", ID, nullable=False),
        sa.Column("opponent_model_id", ID, nullable=False),
        sa.Column("baselines", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        when("created_at"),
        when("started_at", nullable=True),
        when("finished_at", nullable=True),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("llr", sa.Float(), nullable=True),
        sa.Column("games", sa.Integer(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        when("decided_at", nullable=True),
        sa.UniqueConstraint("config_key", "number", name="uq_evaluations_number"),
    )
    op.create_table(
        "match_games",
        sa.Column("evaluation_id", EVALUATION, primary_key=True),
        sa.Column("opponent_id", ID, primary_key=True),
        sa.Column("game_index", sa.Integer(), primary_key=True),
        sa.Column("config_key", CONFIG, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("candidate_seat", sa.Integer(), nullable=False),
        sa.Column("players", sa.JSON(), nullable=False),
        sa.Column("ranking", sa.JSON(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        when("played_at"),
    )
    op.create_index("ix_match_games_config", "match_games", ["config_key"])
    op.create_table(
        "first_promotions",
        sa.Column("config_key", CONFIG, primary_key=True),
        sa.Column("model_id", ID, nullable=False),
        when("promoted_at"),
    )


def downgrade() -> None:
    op.drop_table("first_promotions")
    op.drop_index("ix_match_games_config", table_name="match_games")
    op.drop_table("match_games")
    op.drop_table("evaluations")
    op.drop_table("candidates")
