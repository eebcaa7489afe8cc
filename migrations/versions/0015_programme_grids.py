"""Revision 0015, after 0017, 2026-12-01: programme grids (versions of each programme's observation grid; each
visit's version)."""

from datetime import UTC, datetime
import sqlalchemy as sa
from alembic import op
from shared.taxonomy import UnknownTaxonomyVersionError, current_taxonomy, load_taxonomy

revision, down_revision = "0015", "0017"


def upgrade() -> None:
    grid_version = op.create_table(
        "grid_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by_user_id", sa.Integer(), nullable=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_grid_version_programme_id_programme")
        ),
        sa.ForeignKeyConstraint(
            ["published_by_user_id"], ["user.id"], name=op.f("fk_grid_version_published_by_user_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_version")),
        sa.UniqueConstraint("programme_id", "number", name=op.f("uq_grid_version_programme_id_number")),
    )
    with op.batch_alter_table("grid_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grid_version_programme_id"), ["programme_id"], unique=False)
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grid_version", sa.Integer(), nullable=True))

    # Existing programmes get the shipped grid they used as their published version 1.
    programme = sa.table(
        "programme", sa.column("id", sa.Integer()), sa.column("taxonomy_version", sa.String())
    )
    now = datetime.now(UTC)
    rows = []
    for programme_id, version in op.get_bind().execute(
        sa.select(programme.c.id, programme.c.taxonomy_version)
    ):
        try:
            document = load_taxonomy(version).as_dict()
        except UnknownTaxonomyVersionError:
            document = current_taxonomy().as_dict()
        rows.append(
            {
                "programme_id": programme_id,
                "number": 1,
                "published_at": now,
                "document": document,
                "created_at": now,
                "updated_at": now,
            }
        )
    if rows:
        op.bulk_insert(grid_version, rows)


def downgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_column("grid_version")
    with op.batch_alter_table("grid_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grid_version_programme_id"))
    op.drop_table("grid_version")
