"""Revision 0012, after 0011, 2026-12-01: notes screened after their push (observation.privacy_pending)."""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0012", "0011"


def upgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("privacy_pending", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.create_index(
            "ix_observation_privacy_pending",
            ["id"],
            unique=False,
            postgresql_where=sa.text("privacy_pending"),
            sqlite_where=sa.text("privacy_pending"),
        )
    # Notes stored before the server screened them are screened by the server's worker, not by the
    # tablet's rules at each export.
    op.execute(
        "UPDATE observation SET privacy_pending = true WHERE note IS NOT NULL AND note <> '' "
        "AND note_masked IS NULL"
    )


def downgrade() -> None:
    # Pending notes go back to what 0011 did with unscreened notes: the tablet's rules at export.
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index("ix_observation_privacy_pending")
        batch_op.drop_column("privacy_pending")
