"""Revision 0017, after 0012, 2026-12-01: workshops (deck, themes, cards, phone votes, notes, actions)."""

from typing import Any

import sqlalchemy as sa
from alembic import op

from migrations.columns import create_table_with_index, foreign_key

revision, down_revision = "0017", "0012"

TEXT = sa.String(length=200)
MOMENT = sa.DateTime(timezone=True)


def _required(name: str, kind: Any) -> sa.Column[Any]:
    return sa.Column(name, kind, nullable=False)


def _optional(name: str, kind: Any) -> sa.Column[Any]:
    return sa.Column(name, kind, nullable=True)


def upgrade() -> None:
    create_table_with_index(
        "workshop",
        "programme_id",
        _required("programme_id", sa.Integer()),
        _required("title", TEXT),
        _required("structure_ids", sa.JSON()),
        _required("held_on", sa.Date()),
        _required("place", TEXT),
        _required("participants", sa.JSON()),
        _required("status", sa.String(length=20)),
        _required("vote_code", sa.String(length=12)),
        _optional("created_by_user_id", sa.Integer()),
        _required("created_at", MOMENT),
        foreign_key("workshop", "created_by_user_id", "user"),
        foreign_key("workshop", "programme_id", "programme"),
        unique=("vote_code",),
    )
    create_table_with_index(
        "workshop_theme",
        "workshop_id",
        _required("workshop_id", sa.Integer()),
        _required("title", TEXT),
        _required("position", sa.Integer()),
        _required("facilitator_dots", sa.Integer()),
        foreign_key("workshop_theme", "workshop_id", "workshop", "CASCADE"),
    )
    create_table_with_index(
        "workshop_card",
        "workshop_id",
        _required("workshop_id", sa.Integer()),
        _required("observation_id", sa.Uuid()),
        _optional("theme_id", sa.Integer()),
        _required("position", sa.Integer()),
        foreign_key("workshop_card", "observation_id", "observation", "CASCADE"),
        foreign_key("workshop_card", "theme_id", "workshop_theme", "SET NULL"),
        foreign_key("workshop_card", "workshop_id", "workshop", "CASCADE"),
        unique=("workshop_id", "observation_id"),
    )
    create_table_with_index(
        "workshop_vote",
        "theme_id",
        _required("theme_id", sa.Integer()),
        _required("voter_hash", sa.String(length=64)),
        _required("at", MOMENT),
        foreign_key("workshop_vote", "theme_id", "workshop_theme", "CASCADE"),
        unique=("theme_id", "voter_hash"),
    )
    create_table_with_index(
        "workshop_note",
        "theme_id",
        _required("theme_id", sa.Integer()),
        _required("body", sa.String(length=2000)),
        _optional("author_user_id", sa.Integer()),
        _required("created_at", MOMENT),
        foreign_key("workshop_note", "author_user_id", "user"),
        foreign_key("workshop_note", "theme_id", "workshop_theme", "CASCADE"),
    )
    create_table_with_index(
        "workshop_action",
        "workshop_id",
        _required("workshop_id", sa.Integer()),
        _required("title", TEXT),
        _required("theme_ids", sa.JSON()),
        _required("observation_ids", sa.JSON()),
        _required("owner_role", TEXT),
        _optional("due_on", sa.Date()),
        _required("status", sa.String(length=20)),
        _required("milestone_label", TEXT),
        _optional("milestone_on", sa.Date()),
        _required("created_at", MOMENT),
        _required("updated_at", MOMENT),
        foreign_key("workshop_action", "workshop_id", "workshop", "CASCADE"),
    )


# Each table's one index, dropped before the table (children first).
INDEXED = {
    "workshop_action": "workshop_id",
    "workshop_note": "theme_id",
    "workshop_vote": "theme_id",
    "workshop_card": "workshop_id",
    "workshop_theme": "workshop_id",
    "workshop": "programme_id",
}


def downgrade() -> None:
    for table, column in INDEXED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
