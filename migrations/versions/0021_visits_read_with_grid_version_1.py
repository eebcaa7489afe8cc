"""Revision 0021, after 0020, 2026-12-02: visits stored before programme grids get version 1, the shipped grid
they were captured with (0015 made it each programme's version 1; their rows were left without a number)."""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0021", "0020"


def upgrade() -> None:
    # Without a number, an edit of such a visit's observations was checked against today's grid, and exports
    # showed no version.
    op.execute(sa.text("UPDATE visit SET grid_version = 1 WHERE grid_version IS NULL"))


def downgrade() -> None:
    # Version 1 is what those visits were captured with under 0020 too: nothing to undo.
    pass
