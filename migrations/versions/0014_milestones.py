"""Revision 0014, after 0013, 2026-12-01: milestones of digital change per structure or unit."""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0014", "0013"


def upgrade() -> None:
    op.create_table(
        "milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["structure_id"], ["structure.id"], name=op.f("fk_milestone_structure_id_structure")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_milestone_unit_id_unit")),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["user.id"], name=op.f("fk_milestone_created_by_user_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone")),
    )
    with op.batch_alter_table("milestone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_milestone_structure_id"), ["structure_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("milestone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestone_structure_id"))
    op.drop_table("milestone")
