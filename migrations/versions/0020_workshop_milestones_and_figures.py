"""Revision 0020, after 0018, 2026-12-01: the milestone a done workshop action creates; figures on themes."""

import sqlalchemy as sa
from alembic import op

from migrations.columns import create_table_with_index, drop_table_with_index, foreign_key, required_columns

revision, down_revision = "0020", "0018"


def upgrade() -> None:
    with op.batch_alter_table("milestone", schema=None) as batch_op:
        batch_op.add_column(sa.Column("workshop_action_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_milestone_workshop_action_id_workshop_action"),
            "workshop_action",
            ["workshop_action_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_milestone_workshop_action_id_structure_id"), ["workshop_action_id", "structure_id"]
        )
    create_table_with_index(
        "workshop_figure",
        "workshop_id",
        *required_columns(workshop_id=sa.Integer(), theme_id=sa.Integer(), kind=sa.String(length=40)),
        *required_columns(params=sa.JSON(), position=sa.Integer(), created_at=sa.DateTime(timezone=True)),
        foreign_key("workshop_figure", "theme_id", "workshop_theme", "CASCADE"),
        foreign_key("workshop_figure", "workshop_id", "workshop", "CASCADE"),
    )


def downgrade() -> None:
    drop_table_with_index("workshop_figure", "workshop_id")
    with op.batch_alter_table("milestone", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_milestone_workshop_action_id_structure_id"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_milestone_workshop_action_id_workshop_action"), type_="foreignkey"
        )
        batch_op.drop_column("workshop_action_id")
