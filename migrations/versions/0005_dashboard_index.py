"""dashboard covering index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["structure_id", "deleted", "category", "role", "tool", "effect", "occurred_at", "ended_at"]


def upgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.create_index("ix_observation_dashboard", COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index("ix_observation_dashboard")
