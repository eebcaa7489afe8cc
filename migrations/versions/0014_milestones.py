"""Revision 0014, after 0013, 2026-12-01: milestones of digital change per structure or unit."""

import sqlalchemy as sa

from migrations.columns import (
    create_table_with_index,
    drop_table_with_index,
    foreign_keys,
    optional_columns,
    required_columns,
)

revision, down_revision = "0014", "0013"


def upgrade() -> None:
    create_table_with_index(
        "milestone",
        "structure_id",
        *required_columns(structure_id=sa.Integer()),
        *optional_columns(unit_id=sa.Integer()),
        *required_columns(day=sa.Date(), label=sa.String(length=200)),
        *optional_columns(created_by_user_id=sa.Integer()),
        *required_columns(created_at=sa.DateTime(timezone=True)),
        *foreign_keys("milestone", structure_id="structure", unit_id="unit", created_by_user_id="user"),
    )


def downgrade() -> None:
    drop_table_with_index("milestone", "structure_id")
