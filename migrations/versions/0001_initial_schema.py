"""Revision 0001, the first, 2026-11-23: initial schema."""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0001", None


def upgrade() -> None:
    op.create_table('programme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('taxonomy_version', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme'))
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('email', name=op.f('uq_user_email'))
    )
    op.create_table('observer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_observer_programme_id_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observer'))
    )
    with op.batch_alter_table('observer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observer_programme_id'), ['programme_id'], unique=False)

    op.create_table('structure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('finess', sa.String(length=9), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_structure_programme_id_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_structure')),
    sa.UniqueConstraint('finess', name=op.f('uq_structure_finess'))
    )
    with op.batch_alter_table('structure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_structure_programme_id'), ['programme_id'], unique=False)

    op.create_table('user_programme',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_user_programme_programme_id_programme')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_programme_user_id_user')),
    sa.PrimaryKeyConstraint('user_id', 'programme_id', name=op.f('pk_user_programme'))
    )
    op.create_table('device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('observer_id', sa.Integer(), nullable=False),
    sa.Column('structure_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=128), nullable=True),
    sa.Column('last_mutation_id', sa.Integer(), nullable=False),
    sa.Column('clock_offset_seconds', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['observer_id'], ['observer.id'], name=op.f('fk_device_observer_id_observer')),
    sa.ForeignKeyConstraint(['structure_id'], ['structure.id'], name=op.f('fk_device_structure_id_structure')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_device_token_hash'))
    )
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_observer_id'), ['observer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_structure_id'), ['structure_id'], unique=False)

    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('structure_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['structure_id'], ['structure.id'], name=op.f('fk_unit_structure_id_structure')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('structure_id', 'name', name=op.f('uq_unit_structure_id_name'))
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_structure_id'), ['structure_id'], unique=False)

    op.create_table('visit',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('structure_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('observer_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('observed_roles', sa.JSON(), nullable=False),
    sa.Column('context_note', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_visit_device_id_device')),
    sa.ForeignKeyConstraint(['observer_id'], ['observer.id'], name=op.f('fk_visit_observer_id_observer')),
    sa.ForeignKeyConstraint(['structure_id'], ['structure.id'], name=op.f('fk_visit_structure_id_structure')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_visit_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit'))
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_observer_id'), ['observer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_structure_id'), ['structure_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_unit_id'), ['unit_id'], unique=False)

    op.create_table('observation',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('structure_id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=True),
    sa.Column('tool', sa.String(length=40), nullable=True),
    sa.Column('interruption_source', sa.String(length=40), nullable=True),
    sa.Column('effect', sa.String(length=40), nullable=True),
    sa.Column('severity', sa.SmallInteger(), nullable=True),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('review_status', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['structure_id'], ['structure.id'], name=op.f('fk_observation_structure_id_structure')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_observation_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation'))
    )
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observation_category'), ['category'], unique=False)
        batch_op.create_index('ix_observation_structure_occurred', ['structure_id', 'occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_observation_visit_id'), ['visit_id'], unique=False)

    op.create_table('observation_attribute_value',
    sa.Column('observation_id', sa.Uuid(), nullable=False),
    sa.Column('attribute', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['observation_id'], ['observation.id'], name=op.f('fk_observation_attribute_value_observation_id_observation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('observation_id', 'attribute', 'code', name=op.f('pk_observation_attribute_value'))
    )
    with op.batch_alter_table('observation_attribute_value', schema=None) as batch_op:
        batch_op.create_index('ix_observation_attribute_value_attribute_code', ['attribute', 'code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('observation_attribute_value', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_attribute_value_attribute_code')

    op.drop_table('observation_attribute_value')
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observation_visit_id'))
        batch_op.drop_index('ix_observation_structure_occurred')
        batch_op.drop_index(batch_op.f('ix_observation_category'))

    op.drop_table('observation')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_unit_id'))
        batch_op.drop_index(batch_op.f('ix_visit_structure_id'))
        batch_op.drop_index(batch_op.f('ix_visit_observer_id'))

    op.drop_table('visit')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_structure_id'))

    op.drop_table('unit')
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_structure_id'))
        batch_op.drop_index(batch_op.f('ix_device_observer_id'))

    op.drop_table('device')
    op.drop_table('user_programme')
    with op.batch_alter_table('structure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_structure_programme_id'))

    op.drop_table('structure')
    with op.batch_alter_table('observer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observer_programme_id'))

    op.drop_table('observer')
    op.drop_table('user')
    op.drop_table('programme')
