"""Revision 0009, after 0008, 2026-12-01: programme glossary."""

import sqlalchemy as sa

from migrations.columns import add_column, drop_column

revision, down_revision = "0009", "0008"


def upgrade() -> None:
    add_column("programme", sa.Column("never_masked", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))


def downgrade() -> None:
    drop_column("programme", "never_masked")
