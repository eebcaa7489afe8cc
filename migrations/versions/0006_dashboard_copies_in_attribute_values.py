"""Revision 0006, after 0005, 2026-11-23: dashboard copies in attribute values.

Attribute values carry copies of their observation's structure, time and deletion, so that dashboards
count them from one index without joining the observations. The dashboard's index on observations is split
into narrower ones, each holding what one query reads: counts, hour of week, timed events.
"""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0006", "0005"

COPIED = ("structure_id", "occurred_at", "deleted")
DASHBOARD_COLUMNS = ["structure_id", "deleted", "category", "role", "tool", "effect"]
DASHBOARD_COLUMNS_0005 = [*DASHBOARD_COLUMNS, "occurred_at", "ended_at"]


def upgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        # Narrower: the times moved to the two indexes below.
        batch_op.drop_index("ix_observation_dashboard")
        batch_op.create_index("ix_observation_dashboard", DASHBOARD_COLUMNS, unique=False)
        batch_op.create_index(
            "ix_observation_structure_deleted_occurred",
            ["structure_id", "deleted", "occurred_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_observation_timed",
            ["structure_id", "deleted", "category", "occurred_at", "ended_at"],
            unique=False,
            postgresql_where=sa.text("ended_at IS NOT NULL"),
            sqlite_where=sa.text("ended_at IS NOT NULL"),
        )

    # Added empty, filled from the observations, then required.
    with op.batch_alter_table("observation_attribute_value", schema=None) as batch_op:
        batch_op.add_column(sa.Column("structure_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deleted", sa.Boolean(), nullable=True))
    op.execute(
        """
        UPDATE observation_attribute_value
        SET structure_id = o.structure_id, occurred_at = o.occurred_at, deleted = o.deleted
        FROM observation AS o
        WHERE o.id = observation_attribute_value.observation_id
        """
    )
    with op.batch_alter_table("observation_attribute_value", schema=None) as batch_op:
        batch_op.alter_column("structure_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("occurred_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column("deleted", existing_type=sa.Boolean(), nullable=False)
        batch_op.create_index(
            "ix_observation_attribute_value_dashboard",
            ["structure_id", "deleted", "attribute", "code", "occurred_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("observation_attribute_value", schema=None) as batch_op:
        batch_op.drop_index("ix_observation_attribute_value_dashboard")
        for column in reversed(COPIED):
            batch_op.drop_column(column)

    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_observation_timed",
            postgresql_where=sa.text("ended_at IS NOT NULL"),
            sqlite_where=sa.text("ended_at IS NOT NULL"),
        )
        batch_op.drop_index("ix_observation_structure_deleted_occurred")
        batch_op.drop_index("ix_observation_dashboard")
        batch_op.create_index("ix_observation_dashboard", DASHBOARD_COLUMNS_0005, unique=False)
