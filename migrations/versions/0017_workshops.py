"""Revision 0017, after 0012, 2026-12-01: workshops (deck, themes, cards, phone votes, notes, actions)."""

import sqlalchemy as sa

from migrations.columns import (
    create_table_with_index,
    drop_table_with_index,
    foreign_key,
    optional_columns,
    required_columns,
)

revision, down_revision = "0017", "0012"

INTEGER, TEXT, JSON, DATE = sa.Integer(), sa.String(length=200), sa.JSON(), sa.Date()
STATUS, MOMENT = sa.String(length=20), sa.DateTime(timezone=True)


def upgrade() -> None:
    create_table_with_index(
        "workshop",
        "programme_id",
        *required_columns(programme_id=INTEGER, title=TEXT, structure_ids=JSON, held_on=DATE, place=TEXT),
        *required_columns(participants=JSON, status=STATUS, vote_code=sa.String(length=12)),
        *optional_columns(created_by_user_id=INTEGER),
        *required_columns(created_at=MOMENT),
        foreign_key("workshop", "created_by_user_id", "user"),
        foreign_key("workshop", "programme_id", "programme"),
        unique=("vote_code",),
    )
    create_table_with_index(
        "workshop_theme",
        "workshop_id",
        *required_columns(workshop_id=INTEGER, title=TEXT, position=INTEGER, facilitator_dots=INTEGER),
        foreign_key("workshop_theme", "workshop_id", "workshop", "CASCADE"),
    )
    create_table_with_index(
        "workshop_card",
        "workshop_id",
        *required_columns(workshop_id=INTEGER, observation_id=sa.Uuid()),
        *optional_columns(theme_id=INTEGER),
        *required_columns(position=INTEGER),
        foreign_key("workshop_card", "observation_id", "observation", "CASCADE"),
        foreign_key("workshop_card", "theme_id", "workshop_theme", "SET NULL"),
        foreign_key("workshop_card", "workshop_id", "workshop", "CASCADE"),
        unique=("workshop_id", "observation_id"),
    )
    create_table_with_index(
        "workshop_vote",
        "theme_id",
        *required_columns(theme_id=INTEGER, voter_hash=sa.String(length=64), at=MOMENT),
        foreign_key("workshop_vote", "theme_id", "workshop_theme", "CASCADE"),
        unique=("theme_id", "voter_hash"),
    )
    create_table_with_index(
        "workshop_note",
        "theme_id",
        *required_columns(theme_id=INTEGER, body=sa.String(length=2000)),
        *optional_columns(author_user_id=INTEGER),
        *required_columns(created_at=MOMENT),
        foreign_key("workshop_note", "author_user_id", "user"),
        foreign_key("workshop_note", "theme_id", "workshop_theme", "CASCADE"),
    )
    create_table_with_index(
        "workshop_action",
        "workshop_id",
        *required_columns(workshop_id=INTEGER, title=TEXT, theme_ids=JSON, observation_ids=JSON, owner_role=TEXT),
        *optional_columns(due_on=DATE),
        *required_columns(status=STATUS, milestone_label=TEXT),
        *optional_columns(milestone_on=DATE),
        *required_columns(created_at=MOMENT, updated_at=MOMENT),
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
        drop_table_with_index(table, column)
