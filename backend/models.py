"""Database tables.

The shared schema says what a visit or an observation is; these say how the server keeps them.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import JSON, Column, Index, MetaData, SmallInteger, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.db_types import UTCDateTime, utcnow
from shared.schema import (
    CODE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    VISIT_CONTEXT_MAX_LENGTH,
    ReviewStatus,
)

# One naming convention for every constraint, so that SQLite batch migrations and PostgreSQL
# refer to the same names.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata

EMAIL_MAX_LENGTH = 320


class Programme(SQLModel, table=True):
    """A collective programme (ACIA campaign) of 4 to 8 structures sharing one observation grid."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=NAME_MAX_LENGTH)
    region: str | None = Field(default=None, max_length=100)
    taxonomy_version: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Structure(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    name: str = Field(max_length=NAME_MAX_LENGTH)
    kind: str = Field(sa_type=String(20))  # shared.schema.StructureType
    finess: str | None = Field(default=None, max_length=9, unique=True)
    timezone: str = Field(default="Europe/Paris", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Unit(SQLModel, table=True):
    """A ward or service inside a structure (e.g. "Médecine interne", "Unité protégée")."""

    __table_args__ = (UniqueConstraint("structure_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    structure_id: int = Field(foreign_key="structure.id", index=True)
    name: str = Field(max_length=NAME_MAX_LENGTH)


class User(SQLModel, table=True):
    """A person who signs in to the web app: admin or facilitator."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=EMAIL_MAX_LENGTH, unique=True)
    full_name: str = Field(max_length=NAME_MAX_LENGTH)
    role: str = Field(sa_type=String(20))  # backend.services.users.UserRole
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UserProgramme(SQLModel, table=True):
    """Which programmes a facilitator works on."""

    __tablename__ = "user_programme"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", primary_key=True)


class Observer(SQLModel, table=True):
    """An ergonomist or trained staff member who records observations on the wards."""

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    display_name: str = Field(max_length=NAME_MAX_LENGTH)
    email: str | None = Field(default=None, max_length=EMAIL_MAX_LENGTH)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Device(SQLModel, table=True):
    """An enrolled tablet. Only a hash of its token is kept."""

    id: int | None = Field(default=None, primary_key=True)
    observer_id: int = Field(foreign_key="observer.id", index=True)
    structure_id: int = Field(foreign_key="structure.id", index=True)
    label: str = Field(default="", max_length=100)
    token_hash: str | None = Field(default=None, max_length=128, unique=True)
    last_mutation_id: int = 0
    clock_offset_seconds: float | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Visit(SQLModel, table=True):
    """A ward visit, identified by the UUID the tablet gave it."""

    id: UUID = Field(primary_key=True)
    structure_id: int = Field(foreign_key="structure.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    observer_id: int = Field(foreign_key="observer.id", index=True)
    device_id: int | None = Field(default=None, foreign_key="device.id")
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    observed_roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    context_note: str | None = Field(default=None, max_length=VISIT_CONTEXT_MAX_LENGTH)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    version: int = 1
    deleted: bool = False
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Observation(SQLModel, table=True):
    """One observed event. Multi-valued attributes live in ``observation_attribute_value``."""

    __table_args__ = (Index("ix_observation_structure_occurred", "structure_id", "occurred_at"),)

    id: UUID = Field(primary_key=True)
    visit_id: UUID = Field(foreign_key="visit.id", index=True)
    # Copied from the visit so that per-structure filters and aggregates need no join.
    structure_id: int = Field(foreign_key="structure.id")
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    category: str = Field(max_length=CODE_MAX_LENGTH, index=True)
    role: str | None = Field(default=None, max_length=CODE_MAX_LENGTH)
    tool: str | None = Field(default=None, max_length=CODE_MAX_LENGTH)
    interruption_source: str | None = Field(default=None, max_length=CODE_MAX_LENGTH)
    effect: str | None = Field(default=None, max_length=CODE_MAX_LENGTH)
    severity: int | None = Field(default=None, sa_type=SmallInteger)
    note: str | None = Field(default=None, max_length=NOTE_MAX_LENGTH)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    version: int = 1
    deleted: bool = False
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    review_status: str = Field(default=ReviewStatus.TO_REVIEW.value, sa_type=String(20))


class ObservationAttributeValue(SQLModel, table=True):
    """One value of a multi-valued attribute (work dimension, impact) of an observation.

    A row per value, rather than a JSON list, so that aggregates are plain GROUP BYs on both databases.
    """

    __tablename__ = "observation_attribute_value"
    __table_args__ = (Index("ix_observation_attribute_value_attribute_code", "attribute", "code"),)

    observation_id: UUID = Field(foreign_key="observation.id", primary_key=True, ondelete="CASCADE")
    attribute: str = Field(max_length=CODE_MAX_LENGTH, primary_key=True)
    code: str = Field(max_length=CODE_MAX_LENGTH, primary_key=True)
