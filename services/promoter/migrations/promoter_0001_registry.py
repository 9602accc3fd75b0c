"""The promoter's tables: model registry, history, evaluations, tokens, audit (tables.py).

Revision ID: promoter_0001_registry
Revises: (a new root: the promoter branch)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "promoter_0001_registry"
down_revision = None
branch_labels = ("promoter",)
# The library's runtime tables come first (processed ids, outbox, jobs).
depends_on = "0003_outbox_jobs"

ID = sa.String(64)
CONFIG = sa.String(32)
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "config_state",
        sa.Column("config_key", CONFIG, primary_key=True),
        sa.Column("current_model_id", ID),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("latest_candidate_id", ID),
        sa.Column("latest_evaluation_id", ID),
        when("last_shard_at"), when("last_candidate_at"), when("last_evaluation_started_at"),
        when("last_evaluation_at"), when("last_promotion_at"),
    )
    op.create_table(
        "models",
        sa.Column("model_id", ID, primary_key=True),
        sa.Column("config_key", CONFIG, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("parent_model_id", ID, nullable=False),
        sa.Column("architecture", sa.String(64), nullable=False),
        sa.Column("encoder_version", sa.Integer(), nullable=False),
        sa.Column("train_step", sa.BigInteger(), nullable=False),
        sa.Column("samples_seen", sa.BigInteger(), nullable=False),
        sa.Column("losses", sa.JSON(), nullable=False),
        sa.Column("shard_ids", sa.JSON(), nullable=False),
        sa.Column("weights_uri", sa.Text(), nullable=False),
        sa.Column("weights_sha256", sa.String(64), nullable=False),
        sa.Column("weights_size", sa.BigInteger(), nullable=False),
        when("trained_at", False), when("registered_at", False), when("state_changed_at", False),
        sa.Column("rating", sa.Float()),
        sa.Column("rating_lower", sa.Float()),
        sa.Column("rating_upper", sa.Float()),
        sa.Column("rating_confidence", sa.Float()),
        when("rated_at"),
        sa.Column("candidate_event_id", ID, nullable=False),
    )
    op.create_index("ix_models_config_key", "models", ["config_key"])
    op.create_index("ix_models_config_state", "models", ["config_key", "state"])
    op.create_table(
        "transitions",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("model_id", ID, sa.ForeignKey("models.model_id"), nullable=False),
        sa.Column("config_key", CONFIG, nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        when("at", False),
        sa.Column("cause", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evaluation_id", ID, nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_transitions_model_id", "transitions", ["model_id"])
    op.create_index("ix_transitions_config_key", "transitions", ["config_key"])
    op.create_table(
        "evaluations",
        sa.Column("evaluation_id", ID, primary_key=True),
        sa.Column("model_id", ID, nullable=False),
        sa.Column("config_key", CONFIG, nullable=False),
        sa.Column("opponent_model_id", ID, nullable=False),
        when("started_at"), when("completed_at"),
        sa.Column("passed", sa.Boolean()),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("statistic", sa.Float()),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("games_played", sa.Integer(), nullable=False),
        sa.Column("elo", sa.Float()),
        sa.Column("elo_lower", sa.Float()),
        sa.Column("elo_upper", sa.Float()),
        sa.Column("elo_confidence", sa.Float()),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_evaluations_model_id", "evaluations", ["model_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        when("created_at", False), when("revoked_at"), when("last_used_at"),
    )
    op.create_index("ux_api_tokens_live_name", "api_tokens", ["name"], unique=True,
                    postgresql_where=sa.text("revoked_at IS NULL"),
                    sqlite_where=sa.text("revoked_at IS NULL"))
    op.create_table(
        "audit_log",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        when("at", False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("config_key", CONFIG, nullable=False),
        sa.Column("model_id", ID, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    for table in ("audit_log", "api_tokens", "evaluations", "transitions", "models",
                  "config_state"):
        op.drop_table(table)
