"""Revision ${up_revision}, after ${down_revision | comma,n}, ${create_date.strftime("%Y-%m-%d")}: ${message}."""

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision, down_revision = "${up_revision}", ${'"%s"' % down_revision if down_revision else None}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
