"""Revision 0008, after 0007, 2026-12-01: masked notes."""

import sqlalchemy as sa

from migrations.columns import add_column, drop_column

revision, down_revision = "0008", "0007"


def upgrade() -> None:
    # Filled at push from now on; notes already stored are masked by `vigie privacy rescan`.
    add_column("observation", sa.Column("note_masked", sa.Text(), nullable=True))


def downgrade() -> None:
    drop_column("observation", "note_masked")
