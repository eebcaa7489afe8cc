"""Revision 0013, after 0015, 2026-12-01: the task an interruption interrupted, whether and when it was resumed."""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0013", "0015"


def upgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("interrupted_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("task_resumed", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("resumed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        for name in ("resumed_at", "task_resumed", "interrupted_id"):
            batch_op.drop_column(name)
