"""masked notes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Filled at push from now on; notes already stored are masked by `vigie privacy rescan`.
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note_masked", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_column("note_masked")
