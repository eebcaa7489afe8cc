"""One column added to or dropped from a table, batch mode (SQLite rebuilds the table, PostgreSQL alters it).

Migrations that ran keep meaning what they meant: change nothing here, add a new helper instead.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op


def add_column(table: str, column: sa.Column[Any]) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(column)


def drop_column(table: str, name: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_column(name)
