"""Revision 0010, after 0009, 2026-12-01: approved verbatims."""

import sqlalchemy as sa

from migrations.columns import add_column, drop_column

revision, down_revision = "0010", "0009"


def upgrade() -> None:
    add_column("observation", sa.Column("verbatim_approved", sa.Boolean(), server_default=sa.text("false"), nullable=False))


def downgrade() -> None:
    drop_column("observation", "verbatim_approved")
