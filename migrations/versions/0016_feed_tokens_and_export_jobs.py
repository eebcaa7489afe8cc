"""Revision 0016, after 0014, 2026-12-01: personal tokens of the OData feed, background export jobs."""

import sqlalchemy as sa

from migrations.columns import (
    create_table_with_index,
    drop_table_with_index,
    foreign_key,
    optional_columns,
    required_columns,
)

revision, down_revision = "0016", "0014"

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_table_with_index(
        "feed_token",
        "user_id",
        *required_columns(user_id=sa.Integer(), name=sa.String(length=100), token_hash=sa.String(length=64)),
        *required_columns(created_at=MOMENT),
        *optional_columns(last_used_at=MOMENT, revoked_at=MOMENT),
        foreign_key("feed_token", "user_id", "user"),
        unique=("token_hash",),
    )
    create_table_with_index(
        "export_job",
        "user_id",
        *required_columns(user_id=sa.Integer(), export_format=sa.String(length=10), scope=sa.JSON()),
        *required_columns(separator=sa.String(length=1), status=sa.String(length=20)),
        *required_columns(rows=sa.Integer(), rows_done=sa.Integer(), file_name=sa.String(length=100)),
        *optional_columns(error=sa.String(length=500)),
        *required_columns(created_at=MOMENT),
        *optional_columns(finished_at=MOMENT, expires_at=MOMENT),
        foreign_key("export_job", "user_id", "user"),
    )


def downgrade() -> None:
    drop_table_with_index("export_job", "user_id")
    drop_table_with_index("feed_token", "user_id")
