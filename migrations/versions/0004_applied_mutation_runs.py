"""Revision 0004, after 0003, 2026-11-23: applied mutation runs."""

import sqlalchemy as sa
from alembic import op

from migrations.columns import add_column, drop_column

revision, down_revision = "0004", "0003"


def upgrade() -> None:
    add_column("sync_mutation", sa.Column("last_mutation_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # The older schema knows one row per mutation: spell each run out so that retries stay exactly-once.
    op.execute(
        """
        WITH RECURSIVE spelled(device_id, mutation_id, last_mutation_id, entity, status, details, received_at) AS (
            SELECT device_id, mutation_id + 1, last_mutation_id, entity, status, details, received_at
            FROM sync_mutation WHERE last_mutation_id > mutation_id
            UNION ALL
            SELECT device_id, mutation_id + 1, last_mutation_id, entity, status, details, received_at
            FROM spelled WHERE mutation_id < last_mutation_id
        )
        INSERT INTO sync_mutation (device_id, mutation_id, entity, status, details, received_at)
        SELECT device_id, mutation_id, entity, status, details, received_at FROM spelled
        """
    )
    drop_column("sync_mutation", "last_mutation_id")
