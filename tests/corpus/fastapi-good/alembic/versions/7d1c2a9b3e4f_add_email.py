"""add email to users

Revision ID: 7d1c2a9b3e4f
Revises: 3a9f0c1d2b7e
"""
import sqlalchemy as sa
from alembic import op

revision = "7d1c2a9b3e4f"
down_revision = "3a9f0c1d2b7e"


def upgrade():
    op.execute("SET lock_timeout = '5s'")
    op.add_column("users", sa.Column("email", sa.String(255), nullable=True))
    with op.get_context().autocommit_block():
        op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_users_email", table_name="users", postgresql_concurrently=True)
    op.drop_column("users", "email")
