"""Building blocks of migrations: one column added to or dropped from a table, batch mode (SQLite rebuilds the
table, PostgreSQL alters it); a table with an ``id`` key and one index (and its drop); required and optional
columns in order; foreign keys named by the convention.

Migrations that ran keep meaning what they meant: change nothing here, add a new helper instead.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.schema import SchemaItem


def add_column(table: str, column: sa.Column[Any]) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(column)


def drop_column(table: str, name: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_column(name)


def foreign_key(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    """``table.column`` refers to ``target.id``, named by the naming convention."""
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def create_table_with_index(
    table: str, indexed: str, *items: SchemaItem, unique: tuple[str, ...] = ()
) -> None:
    """A table with an integer ``id`` primary key first, then ``items``, one index on ``indexed`` and, when
    given, one unique constraint on the ``unique`` columns."""
    constraints: list[SchemaItem] = [sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))]
    if unique:
        constraints.append(sa.UniqueConstraint(*unique, name=op.f(f"uq_{table}_{'_'.join(unique)}")))
    op.create_table(table, sa.Column("id", sa.Integer(), nullable=False), *items, *constraints)
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_{indexed}"), [indexed], unique=False)


def drop_table_with_index(table: str, indexed: str) -> None:
    """Undo ``create_table_with_index``: its index, then the table."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f(f"ix_{table}_{indexed}"))
    op.drop_table(table)


def required_columns(**kinds: Any) -> list[sa.Column[Any]]:
    """Columns in the order given, each of its type and NOT NULL."""
    return [sa.Column(name, kind, nullable=False) for name, kind in kinds.items()]


def optional_columns(**kinds: Any) -> list[sa.Column[Any]]:
    """Columns in the order given, each of its type and nullable."""
    return [sa.Column(name, kind, nullable=True) for name, kind in kinds.items()]


def foreign_keys(table: str, **targets: str) -> list[sa.ForeignKeyConstraint]:
    """``column="target"`` in order: each ``table.column`` refers to ``target.id`` (no ON DELETE)."""
    return [foreign_key(table, column, target) for column, target in targets.items()]
