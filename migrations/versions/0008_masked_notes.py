"""Revision 0008, after 0007, 2026-12-01: masked notes."""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"


def upgrade() -> None:
    # Filled at push from now on; notes already stored are masked by `vigie privacy rescan`.
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note_masked", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_column("note_masked")
