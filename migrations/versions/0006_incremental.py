"""Incremental analysis: config blobs by id, superseding marks, analysis claims, a retry time on
deliveries; analyses are no longer unique per (repository, sha, digest), since a commit is judged
in several contexts (its branch, a pull request, a merge group).

Revision ID: 0006_incremental
Revises: 0005_removals_keep_history
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_incremental"
down_revision = "0005_removals_keep_history"

_NOW = sa.text("CURRENT_TIMESTAMP")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# 0001 left the unique constraint unnamed: PostgreSQL named it itself; SQLite needs a convention
_UNIQUE = "analyses_repository_id_sha_ruleset_digest_key"
_CONVENTION = {"uq": "%(table_name)s_%(column_0_N_name)s_key"}


def upgrade() -> None:
    op.create_table(
        "config_blobs",
        sa.Column("blob_sha", sa.String(40), primary_key=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )
    op.create_table(
        "supersede_marks",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("delivery_id", sa.String(64), nullable=False, unique=True),
        sa.Column("sha", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )
    op.create_index("ix_supersede_marks_key_id", "supersede_marks", ["key", "id"])
    op.create_table(
        "analysis_claims",
        sa.Column("repository_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("sha", sa.String(40), primary_key=True),
        sa.Column("context", sa.String(64), primary_key=True),
        sa.Column("delivery_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("open_check_run_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("analyses", naming_convention=_CONVENTION) as batch:
        batch.drop_constraint(_UNIQUE, type_="unique")
    # `analyses` already holds rows: on PostgreSQL the index is built without blocking writes,
    # which CREATE INDEX CONCURRENTLY can only do outside a transaction (ignored on SQLite)
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_analyses_repository_id_sha",
            "analyses",
            ["repository_id", "sha"],
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_analyses_repository_id_sha", table_name="analyses", postgresql_concurrently=True
        )
    with op.batch_alter_table("analyses", naming_convention=_CONVENTION) as batch:
        batch.create_unique_constraint(_UNIQUE, ["repository_id", "sha", "ruleset_digest"])
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("retry_at")
    op.drop_table("analysis_claims")
    op.drop_index("ix_supersede_marks_key_id", table_name="supersede_marks")
    op.drop_table("supersede_marks")
    op.drop_table("config_blobs")
