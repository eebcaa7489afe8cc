"""Administration: programmes, structures, units, observers, enrolment codes, tablets and accounts.

Admins manage everything; facilitators manage the programmes they follow (never accounts or new
programmes). Structures and units carry a ``server_seq`` because tablets pull them; every change that
matters for security (codes, revocations, accounts) goes to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic_core import PydanticCustomError
from sqlmodel import Session, SQLModel, col, select

from backend import models
from backend.audit.actions import AuditAction
from backend.audit.service import commit_audited, record_audit
from backend.auth.access import (
    require_admin,
    require_reviewer,
    visible_programme,
    visible_structure_ids,
)
from backend.auth.users import UserError, UserRole, create_user
from backend.auth.web_sessions import close_other_sessions
from backend.db import counts_per
from backend.grids.versions import seed_programme_grid
from backend.problems import invalid, not_found
from backend.sync.devices import IssuedCode, create_enrolment_code, enrolment_uri, revoke_device
from backend.sync.enrolment_qr import qr_svg
from backend.sync.sequence import SequenceAllocator
from shared.schema import NAME_MAX_LENGTH, StructureType, check_finess
from shared.taxonomy import available_versions

MAX_CODE_DAYS = 90

Row = TypeVar("Row", bound=SQLModel)
CreatedRecord = TypeVar("CreatedRecord", models.Programme, models.Structure, models.Unit, models.Observer)


def _name(value: str, field: str = "name") -> str:
    value = " ".join(value.split())
    if not value or len(value) > NAME_MAX_LENGTH:
        raise invalid(field, "invalid_name", max_length=NAME_MAX_LENGTH)
    return value


def managed_programme(session: Session, user: models.User, programme_id: int) -> models.Programme:
    """A programme this user administers: admins all, facilitators theirs (others: 404)."""
    require_reviewer(user)
    return visible_programme(session, user, programme_id)


def managed_structure(session: Session, user: models.User, structure_id: int) -> models.Structure:
    require_reviewer(user)
    structure = session.get(models.Structure, structure_id)
    if structure is None:
        raise not_found()
    managed_programme(session, user, structure.programme_id)
    return structure


def _add_created(
    session: Session, user: models.User, record: CreatedRecord, action: AuditAction, target_type: str
) -> CreatedRecord:
    """Write a new record with its audit event in one transaction, and return it as stored."""
    session.add(record)
    session.flush()
    record_audit(session, action, actor_user_id=user.id, target_type=target_type, target_id=record.id)
    session.commit()
    session.refresh(record)
    return record


def create_programme(
    session: Session, user: models.User, name: str, region: str | None, taxonomy_version: str
) -> models.Programme:
    require_admin(user)
    if taxonomy_version not in available_versions():
        raise invalid("taxonomy_version", "unknown_taxonomy_version", version=taxonomy_version)
    programme = models.Programme(
        name=_name(name), region=(region or "").strip()[:100] or None, taxonomy_version=taxonomy_version
    )
    session.add(programme)
    session.flush()
    seed_programme_grid(session, programme)  # the shipped grid is where the programme's own one starts
    return _add_created(session, user, programme, AuditAction.PROGRAMME_CREATE, "programme")


@dataclass(frozen=True)
class ProgrammeOverview:
    programme: models.Programme
    structures: list[tuple[models.Structure, list[models.Unit]]]
    observers: list[models.Observer]
    facilitators: list[models.User]


def programme_overview(session: Session, user: models.User, programme_id: int) -> ProgrammeOverview:
    programme = managed_programme(session, user, programme_id)
    structures = _sorted(session, models.Structure, models.Structure.name, programme_id=programme_id)
    structure_ids = col(models.Unit.structure_id).in_([s.id for s in structures])
    units = session.exec(select(models.Unit).where(structure_ids).order_by(col(models.Unit.name))).all()
    observers = _sorted(session, models.Observer, models.Observer.display_name, programme_id=programme_id)
    facilitators = session.exec(
        select(models.User)
        .join(models.UserProgramme, col(models.UserProgramme.user_id) == col(models.User.id))
        .where(models.UserProgramme.programme_id == programme_id)
        .order_by(col(models.User.full_name))
    ).all()
    return ProgrammeOverview(
        programme=programme,
        structures=[(s, [u for u in units if u.structure_id == s.id]) for s in structures],
        observers=list(observers),
        facilitators=list(facilitators),
    )


def _sorted(session: Session, model: type[Row], order: Any, **equal: object) -> list[Row]:
    """The rows of ``model`` whose columns equal the values given, ordered by ``order``."""
    return list(session.exec(select(model).filter_by(**equal).order_by(col(order))).all())


def create_structure(
    session: Session,
    user: models.User,
    programme_id: int,
    *,
    name: str,
    kind: str,
    finess: str | None,
    timezone: str,
) -> models.Structure:
    managed_programme(session, user, programme_id)
    name = _name(name)
    if kind not in {k.value for k in StructureType}:
        raise invalid("kind", "invalid_kind")
    cleaned_finess = None
    if finess and finess.strip():
        try:
            cleaned_finess = check_finess(finess)
        except PydanticCustomError as exc:
            raise invalid("finess", "invalid_finess", value=finess) from exc
        if session.exec(select(models.Structure).where(models.Structure.finess == cleaned_finess)).first():
            raise invalid("finess", "finess_taken")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid("timezone", "invalid_timezone", timezone=timezone) from None
    allocator = SequenceAllocator(session)
    structure = models.Structure(
        programme_id=programme_id,
        name=name,
        kind=kind,
        finess=cleaned_finess,
        timezone=timezone,
        server_seq=allocator.next(),
    )
    allocator.save()
    return _add_created(session, user, structure, AuditAction.STRUCTURE_CREATE, "structure")


def create_unit(session: Session, user: models.User, structure_id: int, name: str) -> models.Unit:
    managed_structure(session, user, structure_id)
    name = _name(name)
    allocator = SequenceAllocator(session)
    taken = session.exec(
        select(models.Unit).where(models.Unit.structure_id == structure_id, models.Unit.name == name)
    ).first()
    if taken is not None:
        raise invalid("name", "unit_exists", name=name)
    unit = models.Unit(structure_id=structure_id, name=name, server_seq=allocator.next())
    allocator.save()
    return _add_created(session, user, unit, AuditAction.UNIT_CREATE, "unit")


def create_observer(session: Session, user: models.User, programme_id: int, name: str) -> models.Observer:
    managed_programme(session, user, programme_id)
    observer = models.Observer(programme_id=programme_id, display_name=_name(name))
    return _add_created(session, user, observer, AuditAction.OBSERVER_CREATE, "observer")


@dataclass(frozen=True)
class EnrolmentIssued:
    issued: IssuedCode
    uri: str
    qr_svg: str
    observer: models.Observer
    structure: models.Structure


def issue_enrolment_code(
    session: Session, user: models.User, *, observer_id: int, structure_id: int, days: int, server_url: str
) -> EnrolmentIssued:
    structure = managed_structure(session, user, structure_id)
    observer = session.get(models.Observer, observer_id)
    if observer is None or observer.programme_id != structure.programme_id:
        raise invalid("observer_id", "observer_not_in_programme")
    if not 1 <= days <= MAX_CODE_DAYS:
        raise invalid("days", "invalid_days", max_days=MAX_CODE_DAYS)
    address = urlsplit(server_url)
    if address.scheme not in ("http", "https") or not address.hostname:
        raise invalid("server_url", "invalid_server_url")
    issued = create_enrolment_code(
        session,
        observer_id=observer_id,
        structure_id=structure_id,
        created_by_user_id=user.id,
        lifetime=timedelta(days=days),
    )
    record_audit(
        session,
        AuditAction.ENROLMENT_CODE,
        actor_user_id=user.id,
        target_type="observer",
        target_id=observer_id,
        details={"structure_id": structure_id, "expires_at": issued.expires_at.isoformat()},
    )
    session.commit()
    uri = enrolment_uri(server_url, issued.code)
    return EnrolmentIssued(issued=issued, uri=uri, qr_svg=qr_svg(uri), observer=observer, structure=structure)


@dataclass(frozen=True)
class DeviceRow:
    device: models.Device
    observer_name: str
    structure_name: str
    timezone: str


def devices_of(session: Session, user: models.User) -> list[DeviceRow]:
    require_reviewer(user)
    allowed = visible_structure_ids(session, user)
    statement = (
        select(models.Device, models.Observer.display_name, models.Structure.name, models.Structure.timezone)
        .join(models.Observer, col(models.Observer.id) == col(models.Device.observer_id))
        .join(models.Structure, col(models.Structure.id) == col(models.Device.structure_id))
        .where(col(models.Device.token_hash).is_not(None))
        .order_by(col(models.Device.id))
    )
    if allowed is not None:
        statement = statement.where(col(models.Device.structure_id).in_(list(allowed)))
    return [DeviceRow(*row) for row in session.exec(statement).all()]


def revoke(session: Session, user: models.User, device_id: int, now: datetime | None = None) -> models.Device:
    require_reviewer(user)
    allowed = visible_structure_ids(session, user)
    device = session.get(models.Device, device_id)
    if device is None or (allowed is not None and device.structure_id not in allowed):
        raise not_found()
    return revoke_device(session, device_id, now, actor_user_id=user.id, via=None)


@dataclass(frozen=True)
class AccountRow:
    user: models.User
    programmes: list[str]
    structure_name: str | None


def accounts(session: Session, user: models.User) -> list[AccountRow]:
    require_admin(user)
    people = session.exec(select(models.User).order_by(col(models.User.email))).all()
    links = session.exec(
        select(models.UserProgramme.user_id, models.Programme.name).join(
            models.Programme, col(models.Programme.id) == col(models.UserProgramme.programme_id)
        )
    ).all()
    structures = {s.id: s.name for s in session.exec(select(models.Structure)).all()}
    return [
        AccountRow(
            user=person,
            programmes=sorted(name for user_id, name in links if user_id == person.id),
            structure_name=structures.get(person.structure_id) if person.structure_id else None,
        )
        for person in people
    ]


def create_account(
    session: Session,
    user: models.User,
    *,
    email: str,
    full_name: str,
    role: str,
    password: str,
    programme_id: int | None,
    structure_id: int | None,
) -> models.User:
    require_admin(user)
    try:
        chosen = UserRole(role)
    except ValueError:
        raise invalid("role", "invalid_role") from None
    try:
        created = create_user(
            session,
            email=email,
            full_name=full_name,
            role=chosen,
            password=password,
            programme_ids=[programme_id] if programme_id and chosen == UserRole.FACILITATOR else [],
            structure_id=structure_id,
        )
    except UserError as exc:
        session.rollback()
        raise invalid("account", "invalid_account", says=exc.code, **exc.context) from None
    details: dict[str, object] = {"role": created.role, "email": created.email}
    commit_audited(session, AuditAction.USER_CREATE, user.id, ("user", created.id), details)
    return created


def set_account_active(session: Session, user: models.User, account_id: int, active: bool) -> models.User:
    require_admin(user)
    account = session.get(models.User, account_id)
    if account is None:
        raise not_found()
    if account.id == user.id and not active:
        raise invalid("account", "cannot_deactivate_self")
    if account.is_active != active:
        account.is_active = active
        session.add(account)
        if not active:
            close_other_sessions(session, account_id)
        record_audit(
            session,
            AuditAction.USER_ACTIVATE if active else AuditAction.USER_DEACTIVATE,
            actor_user_id=user.id,
            target_type="user",
            target_id=account_id,
        )
        session.commit()
    return account


def counts_by_structure(session: Session, structure_ids: list[int]) -> dict[int, int]:
    """Live observations per structure, for the administration tables."""
    live = models.Observation.deleted == False  # noqa: E712
    return counts_per(session, models.Observation.structure_id, structure_ids, live)
