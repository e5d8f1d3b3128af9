"""Waivers: findings accepted as a documented risk, with who, why, until when and revocation.

Revision ID: 0002_waivers
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_waivers"
down_revision = "0001"

_NOW = sa.text("CURRENT_TIMESTAMP")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "waivers",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "repository_id",
            sa.BigInteger(),
            sa.ForeignKey("repositories.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(16), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("pull_request", sa.Integer(), nullable=True),
        sa.Column("comment_url", sa.Text(), nullable=True),
        sa.Column("revoked_by", sa.String(255), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_waivers_repository_id", "waivers", ["repository_id"])
    op.create_index("ix_waivers_fingerprint", "waivers", ["fingerprint"])


def downgrade() -> None:
    op.drop_table("waivers")
