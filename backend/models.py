"""Database tables.

The shared schema says what a visit or an observation is; these say how the server keeps them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
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
    # Words the de-identification never masks in this programme's notes (local software, devices, places).
    never_masked: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default=text("'[]'"))
    )
    # Workshop material names no professional nor hour in smaller cells (exports/small_cells.py).
    small_cell_threshold: int = Field(default=5, sa_column_kwargs={"server_default": text("5")})


class GridVersion(SQLModel, table=True):
    """One version of a programme's observation grid: the draft being edited, or a published one.

    A published version never changes (backend.grids.service refuses it); visits record its ``number``
    and their observations are checked against it. ``document`` is what the editor edits and
    ``vigie grid export`` writes (shared.taxonomy's JSON form).
    """

    __tablename__ = "grid_version"
    __table_args__ = (UniqueConstraint("programme_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    number: int
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: the draft
    published_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    document: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Structure(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    name: str = Field(max_length=NAME_MAX_LENGTH)
    kind: str = Field(sa_type=String(20))  # shared.schema.StructureType
    finess: str | None = Field(default=None, max_length=9, unique=True)
    timezone: str = Field(default="Europe/Paris", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    server_seq: int = Field(default=0, sa_type=BigInteger, index=True)


class Unit(SQLModel, table=True):
    """A ward or service inside a structure (e.g. "Médecine interne", "Unité protégée")."""

    __table_args__ = (UniqueConstraint("structure_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    structure_id: int = Field(foreign_key="structure.id", index=True)
    name: str = Field(max_length=NAME_MAX_LENGTH)
    server_seq: int = Field(default=0, sa_type=BigInteger, index=True)


class User(SQLModel, table=True):
    """A person who signs in to the web app: admin or facilitator."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=EMAIL_MAX_LENGTH, unique=True)
    full_name: str = Field(max_length=NAME_MAX_LENGTH)
    role: str = Field(sa_type=String(20))  # backend.auth.users.UserRole
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Only for structure viewers: the one structure they may read.
    structure_id: int | None = Field(default=None, foreign_key="structure.id")


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
    installation_id: UUID | None = Field(default=None, unique=True)
    token_hash: str | None = Field(default=None, max_length=128, unique=True)
    last_mutation_id: int = 0
    clock_offset_seconds: float | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TabletRecord(SQLModel):
    """What visits and observations both keep: the tablet's edit history, and the server's arrival order."""

    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    version: int = 1
    deleted: bool = False
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    server_seq: int = Field(default=0, sa_type=BigInteger)
    # The ``server_seq`` this state got when ``device_id`` pushed it, on top of nothing but that device's
    # own pushes: while the two are equal, that device holds the state already and its pull skips it
    # (a facilitator's or another device's later change gives a new ``server_seq``). Migration 0018.
    pushed_seq: int | None = Field(default=None, sa_type=BigInteger)


class Visit(TabletRecord, table=True):
    """A ward visit, identified by the UUID the tablet gave it."""

    __table_args__ = (Index("ix_visit_observer_seq", "observer_id", "server_seq"),)

    id: UUID = Field(primary_key=True)
    structure_id: int = Field(foreign_key="structure.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    observer_id: int = Field(foreign_key="observer.id", index=True)
    device_id: int | None = Field(default=None, foreign_key="device.id")
    # The programme's grid version the visit was captured with (GridVersion.number); None before 0015.
    grid_version: int | None = None
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    observed_roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    context_note: str | None = Field(default=None, max_length=VISIT_CONTEXT_MAX_LENGTH)
    # Server time minus device time when the device last pushed this visit: corrects a wrong tablet clock.
    device_clock_offset_seconds: float | None = None
    # A time ahead of the server's clock when it arrived: kept as sent, shown to facilitators to check.
    clock_suspect: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})


class Observation(TabletRecord, table=True):
    """One observed event. Multi-valued attributes live in ``observation_attribute_value``."""

    __table_args__ = (
        Index("ix_observation_structure_occurred", "structure_id", "occurred_at"),
        Index("ix_observation_observer_seq", "observer_id", "server_seq"),
        # The dashboard's aggregates are index-only scans of narrow indexes, each holding just what one
        # query reads (bench/dashboard.py: 1,000,000 observations): counts by category, role, tool and
        # effect; hour of week, by ranges of time; lengths of the timed events only.
        Index("ix_observation_dashboard", "structure_id", "deleted", "category", "role", "tool", "effect"),
        Index("ix_observation_structure_deleted_occurred", "structure_id", "deleted", "occurred_at"),
        # Only the notes still to screen: the worker finds them without reading the table.
        Index(
            "ix_observation_privacy_pending",
            "id",
            postgresql_where=text("privacy_pending"),
            sqlite_where=text("privacy_pending"),
        ),
        Index(
            "ix_observation_timed",
            "structure_id",
            "deleted",
            "category",
            "occurred_at",
            "ended_at",
            postgresql_where=text("ended_at IS NOT NULL"),
            sqlite_where=text("ended_at IS NOT NULL"),
        ),
    )

    id: UUID = Field(primary_key=True)
    visit_id: UUID = Field(foreign_key="visit.id", index=True)
    # Copied from the visit so that per-structure aggregates and per-observer pulls need no join.
    structure_id: int = Field(foreign_key="structure.id")
    observer_id: int = Field(foreign_key="observer.id")
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    category: str = Field(max_length=CODE_MAX_LENGTH, index=True)
    role: str | None = Field(default=None, max_length=CODE_MAX_LENGTH)
    tool: str | None = Field(default=None, max_length=CODE_MAX_LENGTH)
    interruption_source: str | None = Field(default=None, max_length=CODE_MAX_LENGTH)
    effect: str | None = Field(default=None, max_length=CODE_MAX_LENGTH)
    severity: int | None = Field(default=None, sa_type=SmallInteger)
    note: str | None = Field(default=None, max_length=NOTE_MAX_LENGTH)
    # An interruption: the timer it interrupted (no foreign key: either may be deleted on its own), whether
    # and when that task was resumed (migration 0013).
    interrupted_id: UUID | None = None
    task_resumed: bool | None = None
    resumed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    review_status: str = Field(default=ReviewStatus.TO_REVIEW.value, sa_type=String(20))
    device_id: int | None = Field(default=None, foreign_key="device.id")
    # Set by the server when the note names someone or carries an identifier (backend.privacy); the note as
    # it may leave the server is ``note_masked``, computed once per pushed state (or by vigie privacy rescan).
    privacy_flagged: bool = False
    note_masked: str | None = Field(default=None, sa_type=Text)
    # The note arrived and has not been screened yet (backend/privacy/pending.py): the worker of
    # ``vigie serve`` screens it within seconds, and anything that reads notes out screens it first.
    privacy_pending: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    # A facilitator read the note and approved it for workshop material: only then does its (masked) text
    # appear in the workshop pack; spreadsheets say whether it was approved.
    verbatim_approved: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    # A time ahead of the server's clock when it arrived: kept as sent, shown to facilitators to check.
    clock_suspect: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})


class ObservationAttributeValue(SQLModel, table=True):
    """One value of a multi-valued attribute (work dimension, impact) of an observation.

    A row per value, rather than a JSON list, so that aggregates are plain GROUP BYs on both databases.
    """

    __tablename__ = "observation_attribute_value"
    __table_args__ = (
        Index("ix_observation_attribute_value_attribute_code", "attribute", "code"),
        # Dashboards count values from this index alone, without reading the observations.
        Index(
            "ix_observation_attribute_value_dashboard",
            "structure_id",
            "deleted",
            "attribute",
            "code",
            "occurred_at",
        ),
    )

    observation_id: UUID = Field(foreign_key="observation.id", primary_key=True, ondelete="CASCADE")
    attribute: str = Field(max_length=CODE_MAX_LENGTH, primary_key=True)
    code: str = Field(max_length=CODE_MAX_LENGTH, primary_key=True)
    # Copies of the observation's columns that dashboards filter on. Every writer of an observation
    # rewrites its values (backend.sync.records.attribute_values), so the copies follow it; no
    # default, so that a writer that forgets them fails instead of miscounting.
    structure_id: int
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    deleted: bool


class SyncState(SQLModel, table=True):
    """The single counter behind pull cursors. Every write transaction that changes what devices
    pull locks this row first, so sequence numbers become visible in the order they were given."""

    __tablename__ = "sync_state"

    id: int = Field(default=1, primary_key=True)
    last_seq: int = Field(default=0, sa_type=BigInteger)


class SyncMutation(SQLModel, table=True):
    """The final result of each mutation a device pushed, replayed when the same mutation comes again.

    A row with ``last_mutation_id`` stands for a run of consecutive mutation ids that were all applied:
    their results are fully known from the re-sent mutations themselves, so one row per run, instead of
    one per mutation, is enough to answer a retry exactly.
    """

    __tablename__ = "sync_mutation"

    device_id: int = Field(foreign_key="device.id", primary_key=True)
    mutation_id: int = Field(primary_key=True, sa_type=BigInteger)
    last_mutation_id: int | None = Field(default=None, sa_type=BigInteger)
    entity: str = Field(max_length=20)
    record_id: UUID | None = None
    status: str = Field(max_length=20)
    code: str | None = Field(default=None, max_length=60)
    message: str | None = Field(default=None, max_length=1000)
    details: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The record state each mutation id carried ("observation/<uuid>/v2"; for a run, one per id in order),
    # so that an id re-sent with another record or version is refused rather than answered "applied"
    # (rows written before revision 0007 have none: singles are checked by entity and record id).
    records: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class RecordRevision(SQLModel, table=True):
    """A state of a visit or observation that lost a conflict: kept, never silently dropped."""

    __tablename__ = "record_revision"

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=20)
    record_id: UUID = Field(index=True)
    version: int
    device_id: int | None = Field(default=None, foreign_key="device.id")
    reason: str = Field(max_length=40)
    data: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EnrolmentCode(SQLModel, table=True):
    """A short single-use code a tablet exchanges for its device token. Only its hash is kept."""

    __tablename__ = "enrolment_code"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=128, unique=True)
    observer_id: int = Field(foreign_key="observer.id")
    structure_id: int = Field(foreign_key="structure.id")
    created_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    device_id: int | None = Field(default=None, foreign_key="device.id")


class ObservationTag(SQLModel, table=True):
    """A facilitator's tag on an observation (e.g. "atelier 2", "double saisie labo")."""

    __tablename__ = "observation_tag"

    observation_id: UUID = Field(foreign_key="observation.id", primary_key=True, ondelete="CASCADE")
    tag: str = Field(max_length=CODE_MAX_LENGTH, primary_key=True)


class ReviewComment(SQLModel, table=True):
    """A facilitator's comment on an observation; it travels back to the observer's tablet at pull."""

    __tablename__ = "review_comment"

    id: int | None = Field(default=None, primary_key=True)
    observation_id: UUID = Field(foreign_key="observation.id", index=True, ondelete="CASCADE")
    author_user_id: int = Field(foreign_key="user.id")
    body: str = Field(max_length=NOTE_MAX_LENGTH)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditEvent(SQLModel, table=True):
    """Who did what and when: enrolment, revocation, review, export, account changes."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    actor_device_id: int | None = Field(default=None, foreign_key="device.id")
    action: str = Field(max_length=60, index=True)
    target_type: str | None = Field(default=None, max_length=40)
    target_id: str | None = Field(default=None, max_length=64)
    details: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class FeedToken(SQLModel, table=True):
    """A personal token with which Excel or Power BI reads the OData feed as its user (HTTP Basic,
    the token as password). Shown once; only its SHA-256 hash is kept."""

    __tablename__ = "feed_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ExportJob(SQLModel, table=True):
    """An export of a large selection, built in the background while its requester watches its progress;
    the file is kept until ``expires_at``, then removed."""

    __tablename__ = "export_job"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    export_format: str = Field(max_length=10)
    scope: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))  # ExportScope, as JSON
    separator: str = Field(default=";", max_length=1)
    status: str = Field(default="queued", max_length=20)  # backend.exports.jobs.JobStatus
    rows: int = 0
    rows_done: int = 0
    file_name: str = Field(max_length=100)
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A signed-in browser. Kept in the database so that any API worker can check it; only a hash of
    the cookie value is stored."""

    __tablename__ = "web_session"

    token_hash: str = Field(max_length=128, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    csrf_token: str = Field(max_length=128)  # its SHA-256: the token is derived from the cookie value
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class Workshop(SQLModel, table=True):
    """A participatory workshop of a programme: its deck (themes of observation cards), what the session
    says (votes, notes) and the actions it decides (backend/workshops/)."""

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    title: str = Field(max_length=NAME_MAX_LENGTH)
    # The structures it looks at, within its programme (empty: all of them).
    structure_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    held_on: date
    place: str = Field(default="", max_length=NAME_MAX_LENGTH)
    # Participants by role, without names: {"Infirmier·e": 3, "Cadre de santé": 1}.
    participants: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="open", sa_type=String(20))  # backend.workshops.service.WorkshopStatus
    # The short code participants type on their phones to vote, while the session is open.
    vote_code: str = Field(max_length=12, unique=True)
    created_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WorkshopPart(SQLModel):
    """What a theme, a card and an action share: their id, and the workshop they go with."""

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True, ondelete="CASCADE")


class WorkshopTheme(WorkshopPart, table=True):
    """A theme of a workshop's deck, grouping cards; the facilitator's dots are its priority votes
    counted in the room (phones add theirs in ``workshop_vote``)."""

    __tablename__ = "workshop_theme"

    title: str = Field(max_length=NAME_MAX_LENGTH)
    position: int = 0
    facilitator_dots: int = 0


class WorkshopCard(WorkshopPart, table=True):
    """An observation on a workshop's deck, in a theme (or not grouped yet)."""

    __tablename__ = "workshop_card"
    __table_args__ = (UniqueConstraint("workshop_id", "observation_id"),)

    observation_id: UUID = Field(foreign_key="observation.id", ondelete="CASCADE")
    theme_id: int | None = Field(default=None, foreign_key="workshop_theme.id", ondelete="SET NULL")
    position: int = 0


class WorkshopVote(SQLModel, table=True):
    """One phone's vote for a theme: only a hash of the phone's random cookie, nothing personal."""

    __tablename__ = "workshop_vote"
    __table_args__ = (UniqueConstraint("theme_id", "voter_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(foreign_key="workshop_theme.id", index=True, ondelete="CASCADE")
    voter_hash: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WorkshopNote(SQLModel, table=True):
    """What was said about a theme, as the facilitator wrote it (screened by the privacy guard)."""

    __tablename__ = "workshop_note"

    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(foreign_key="workshop_theme.id", index=True, ondelete="CASCADE")
    body: str = Field(max_length=NOTE_MAX_LENGTH)
    author_user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WorkshopAction(WorkshopPart, table=True):
    """An experimental action a workshop decides: the problem it answers (themes and observations), who
    carries it (by role), when, how far it has gone, and the milestone it marks once deployed."""

    __tablename__ = "workshop_action"

    title: str = Field(max_length=NAME_MAX_LENGTH)
    theme_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    observation_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    owner_role: str = Field(default="", max_length=NAME_MAX_LENGTH)
    due_on: date | None = None
    status: str = Field(default="proposed", sa_type=String(20))  # backend.workshops.service.ActionStatus
    milestone_label: str = Field(default="", max_length=NAME_MAX_LENGTH)
    milestone_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WorkshopFigure(WorkshopPart, table=True):
    """A dashboard figure attached to a theme: its kind and parameters only, drawn again from live data
    each time the deck is shown (backend/workshops/figures.py)."""

    __tablename__ = "workshop_figure"

    theme_id: int = Field(foreign_key="workshop_theme.id", ondelete="CASCADE")
    kind: str = Field(sa_type=String(40))  # backend.workshops.figures.FigureKind
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Milestone(SQLModel, table=True):
    """A dated digital change in a structure (or one of its units): « DPI déployé », « nouvelle
    messagerie ». Shown on time axes; the before/after comparison splits the observations at its day."""

    # A workshop action marked done creates its milestone, once per structure (backend/workshops/actions.py).
    __table_args__ = (UniqueConstraint("workshop_action_id", "structure_id"),)

    id: int | None = Field(default=None, primary_key=True)
    structure_id: int = Field(foreign_key="structure.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    day: date
    label: str = Field(max_length=NAME_MAX_LENGTH)
    created_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The workshop action whose deployment it marks (None: entered by hand on the programme page).
    workshop_action_id: int | None = Field(
        default=None, foreign_key="workshop_action.id", ondelete="SET NULL"
    )
