"""Removals keep history: an uninstalled App and a repository removed from an installation are
marked (`installations.deleted_at`, `repositories.removed_at`) instead of deleted, so their
analyses, findings and waivers survive and come back with a re-install.

Revision ID: 0005_removals_keep_history
Revises: 0004_procrastinate
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_removals_keep_history"
down_revision = "0004_procrastinate"


def upgrade() -> None:
    # nullable columns without a default: a metadata-only change on PostgreSQL, no rewrite
    op.add_column("installations", sa.Column("deleted_at", sa.DateTime(timezone=True)))
    op.add_column("repositories", sa.Column("removed_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("repositories") as batch:
        batch.drop_column("removed_at")
    with op.batch_alter_table("installations") as batch:
        batch.drop_column("deleted_at")
