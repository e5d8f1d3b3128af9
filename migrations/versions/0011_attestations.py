"""Attestations: what people confirm because code cannot show it (backups, rollback, on-call,
...), with who, the evidence, until when and revocation.

Revision ID: 0011_attestations
Revises: 0010_outage_retries
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_attestations"
down_revision = "0010_outage_retries"

_NOW = sa.text("CURRENT_TIMESTAMP")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "attestations",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "repository_id",
            sa.BigInteger(),
            sa.ForeignKey("repositories.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("item", sa.String(32), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("pull_request", sa.Integer(), nullable=True),
        sa.Column("comment_url", sa.Text(), nullable=True),
        sa.Column("revoked_by", sa.String(255), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_attestations_repository_id", "attestations", ["repository_id"])


def downgrade() -> None:
    op.drop_table("attestations")
