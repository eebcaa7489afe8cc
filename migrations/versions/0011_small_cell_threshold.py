"""Revision 0011, after 0010, 2026-12-01: small cell threshold."""

import sqlalchemy as sa

from migrations.columns import add_column, drop_column

revision, down_revision = "0011", "0010"


def upgrade() -> None:
    add_column("programme", sa.Column("small_cell_threshold", sa.Integer(), server_default=sa.text("5"), nullable=False))


def downgrade() -> None:
    drop_column("programme", "small_cell_threshold")
