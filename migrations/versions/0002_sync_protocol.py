"""Revision 0002, after 0001, 2026-11-23: sync protocol."""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0002", "0001"


def upgrade() -> None:
    op.create_table('sync_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_state'))
    )
    op.create_table('enrolment_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=128), nullable=False),
    sa.Column('observer_id', sa.Integer(), nullable=False),
    sa.Column('structure_id', sa.Integer(), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['user.id'], name=op.f('fk_enrolment_code_created_by_user_id_user')),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_enrolment_code_device_id_device')),
    sa.ForeignKeyConstraint(['observer_id'], ['observer.id'], name=op.f('fk_enrolment_code_observer_id_observer')),
    sa.ForeignKeyConstraint(['structure_id'], ['structure.id'], name=op.f('fk_enrolment_code_structure_id_structure')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment_code')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_enrolment_code_code_hash'))
    )
    op.create_table('record_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_record_revision_device_id_device')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_revision'))
    )
    with op.batch_alter_table('record_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_revision_record_id'), ['record_id'], unique=False)

    op.create_table('sync_mutation',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('mutation_id', sa.BigInteger(), nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=True),
    sa.Column('message', sa.String(length=1000), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_sync_mutation_device_id_device')),
    sa.PrimaryKeyConstraint('device_id', 'mutation_id', name=op.f('pk_sync_mutation'))
    )
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.add_column(sa.Column('installation_id', sa.Uuid(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_device_installation_id'), ['installation_id'])

    # New NOT NULL columns on tables that may already hold rows: add them nullable, fill them, tighten.
    for table in ("structure", "unit", "visit", "observation"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("server_seq", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_clock_offset_seconds", sa.Float(), nullable=True))
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("observer_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("device_id", sa.Integer(), nullable=True))

    _backfill()

    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.alter_column("observer_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("server_seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index("ix_observation_observer_seq", ["observer_id", "server_seq"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_observation_observer_id_observer"), "observer", ["observer_id"], ["id"]
        )
        batch_op.create_foreign_key(batch_op.f("fk_observation_device_id_device"), "device", ["device_id"], ["id"])
    with op.batch_alter_table("structure", schema=None) as batch_op:
        batch_op.alter_column("server_seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index(batch_op.f("ix_structure_server_seq"), ["server_seq"], unique=False)
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.alter_column("server_seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index(batch_op.f("ix_unit_server_seq"), ["server_seq"], unique=False)
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.alter_column("server_seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index("ix_visit_observer_seq", ["observer_id", "server_seq"], unique=False)


def _backfill() -> None:
    """Give existing rows their observer and a place in the pull sequence, oldest first."""
    bind = op.get_bind()
    bind.execute(
        sa.text("UPDATE observation SET observer_id = (SELECT observer_id FROM visit WHERE visit.id = observation.visit_id)")
    )
    last_seq = 0
    for table, order in (("structure", "id"), ("unit", "id"), ("visit", "received_at, id"), ("observation", "received_at, id")):
        bind.execute(
            sa.text(
                f"UPDATE {table} SET server_seq = numbered.n + :offset "  # noqa: S608 (fixed table names)
                f"FROM (SELECT id AS row_id, row_number() OVER (ORDER BY {order}) AS n FROM {table}) AS numbered "
                f"WHERE {table}.id = numbered.row_id"
            ),
            {"offset": last_seq},
        )
        last_seq += bind.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
    bind.execute(sa.text("INSERT INTO sync_state (id, last_seq) VALUES (1, :seq)"), {"seq": last_seq})


def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_observer_seq')
        batch_op.drop_column('device_clock_offset_seconds')
        batch_op.drop_column('server_seq')

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_server_seq'))
        batch_op.drop_column('server_seq')

    with op.batch_alter_table('structure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_structure_server_seq'))
        batch_op.drop_column('server_seq')

    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_observation_device_id_device'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_observation_observer_id_observer'), type_='foreignkey')
        batch_op.drop_index('ix_observation_observer_seq')
        batch_op.drop_column('device_id')
        batch_op.drop_column('server_seq')
        batch_op.drop_column('observer_id')

    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_device_installation_id'), type_='unique')
        batch_op.drop_column('installation_id')

    op.drop_table('sync_mutation')
    with op.batch_alter_table('record_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_revision_record_id'))

    op.drop_table('record_revision')
    op.drop_table('enrolment_code')
    op.drop_table('sync_state')
