"""mutation bindings and clock flags

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 15:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_mutation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("records", sa.JSON(), nullable=True))
    for table in ("visit", "observation"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("clock_suspect", sa.Boolean(), server_default=sa.text("false"), nullable=False)
            )


def downgrade() -> None:
    for table in ("observation", "visit"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("clock_suspect")
    with op.batch_alter_table("sync_mutation", schema=None) as batch_op:
        batch_op.drop_column("records")
