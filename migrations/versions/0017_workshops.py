"""Revision 0017, after 0012, 2026-12-01: workshops (deck, themes, cards, phone votes, notes, actions)."""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0017", "0012"


def upgrade() -> None:
    op.create_table(
        "workshop",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("structure_ids", sa.JSON(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("vote_code", sa.String(length=12), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["user.id"], name=op.f("fk_workshop_created_by_user_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_workshop_programme_id_programme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop")),
        sa.UniqueConstraint("vote_code", name=op.f("uq_workshop_vote_code")),
    )
    with op.batch_alter_table("workshop", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workshop_programme_id"), ["programme_id"], unique=False)

    op.create_table(
        "workshop_theme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("facilitator_dots", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["workshop.id"],
            name=op.f("fk_workshop_theme_workshop_id_workshop"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_theme")),
    )
    with op.batch_alter_table("workshop_theme", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workshop_theme_workshop_id"), ["workshop_id"], unique=False)

    op.create_table(
        "workshop_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Uuid(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observation.id"],
            name=op.f("fk_workshop_card_observation_id_observation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["workshop_theme.id"],
            name=op.f("fk_workshop_card_theme_id_workshop_theme"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["workshop.id"],
            name=op.f("fk_workshop_card_workshop_id_workshop"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_card")),
        sa.UniqueConstraint(
            "workshop_id", "observation_id", name=op.f("uq_workshop_card_workshop_id_observation_id")
        ),
    )
    with op.batch_alter_table("workshop_card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workshop_card_workshop_id"), ["workshop_id"], unique=False)

    op.create_table(
        "workshop_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("voter_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["workshop_theme.id"],
            name=op.f("fk_workshop_vote_theme_id_workshop_theme"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_vote")),
        sa.UniqueConstraint("theme_id", "voter_hash", name=op.f("uq_workshop_vote_theme_id_voter_hash")),
    )
    with op.batch_alter_table("workshop_vote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workshop_vote_theme_id"), ["theme_id"], unique=False)

    op.create_table(
        "workshop_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(length=2000), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_user_id"], ["user.id"], name=op.f("fk_workshop_note_author_user_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["workshop_theme.id"],
            name=op.f("fk_workshop_note_theme_id_workshop_theme"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_note")),
    )
    with op.batch_alter_table("workshop_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workshop_note_theme_id"), ["theme_id"], unique=False)

    op.create_table(
        "workshop_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("theme_ids", sa.JSON(), nullable=False),
        sa.Column("observation_ids", sa.JSON(), nullable=False),
        sa.Column("owner_role", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("milestone_label", sa.String(length=200), nullable=False),
        sa.Column("milestone_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["workshop.id"],
            name=op.f("fk_workshop_action_workshop_id_workshop"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_action")),
    )
    with op.batch_alter_table("workshop_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workshop_action_workshop_id"), ["workshop_id"], unique=False)


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
