"""Revision 0005, after 0004, 2026-11-23: dashboard covering index."""

from alembic import op

revision, down_revision = "0005", "0004"

COLUMNS = ["structure_id", "deleted", "category", "role", "tool", "effect", "occurred_at", "ended_at"]


def upgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.create_index("ix_observation_dashboard", COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index("ix_observation_dashboard")
