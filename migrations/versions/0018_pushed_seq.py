"""Revision 0018, after 0016, 2026-12-01: the sequence number each record's last push by its device got."""

import sqlalchemy as sa

from migrations.columns import add_column, drop_column

revision, down_revision = "0018", "0016"

TABLES = ("visit", "observation")


def upgrade() -> None:
    # Existing rows get NULL: a pull sends them as before, to every device, once.
    for table in TABLES:
        add_column(table, sa.Column("pushed_seq", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        drop_column(table, "pushed_seq")
