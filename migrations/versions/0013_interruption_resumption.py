"""interruption resumption: the timer an interruption interrupted, whether and when it was resumed

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-01 18:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("interrupted_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("task_resumed", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("resumed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_column("resumed_at")
        batch_op.drop_column("task_resumed")
        batch_op.drop_column("interrupted_id")
