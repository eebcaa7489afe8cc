"""Revision 0007, after 0006, 2026-12-01: mutation bindings and clock flags."""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0007", "0006"


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
