"""Repositories remember whether they are private and their default branch (the readiness badge
is served for public repositories only; the score trend is the default branch's).

Revision ID: 0012_repository_visibility
Revises: 0011_attestations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_repository_visibility"
down_revision = "0011_attestations"


def upgrade() -> None:
    # nullable columns without defaults: metadata-only changes on PostgreSQL, no rewrite
    op.add_column("repositories", sa.Column("private", sa.Boolean()))
    op.add_column("repositories", sa.Column("default_branch", sa.String(255)))


def downgrade() -> None:
    with op.batch_alter_table("repositories") as batch:
        batch.drop_column("default_branch")
        batch.drop_column("private")
