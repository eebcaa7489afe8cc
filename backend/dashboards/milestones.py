"""Milestones of digital change: dated, per structure or unit, entered by facilitators (audited) and read by
anyone who may read the structure."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from backend import models
from backend.admin.service import managed_structure
from backend.audit.actions import AuditAction
from backend.audit.service import commit_audited, record_audit
from backend.auth.access import visible_programme, visible_structure_ids
from backend.problems import invalid, not_found
from backend.review.filters import DAY_MAX, DAY_MIN
from shared.schema import NAME_MAX_LENGTH

ROW_ID_DIGITS = 18  # below the databases' largest integer: a longer id names no row


class MilestoneOut(BaseModel):
    id: int
    structure_id: int
    structure_name: str
    unit_id: int | None
    unit_name: str | None
    day: date
    label: str
    workshop_action_id: int | None = None  # set when a workshop action marked done created it


def _checked(
    session: Session, structure_id: int, unit_id: int | None, day: date, label: str
) -> tuple[date, str]:
    """The day and label as stored (spaces collapsed), once the unit is known to be the structure's."""
    if not DAY_MIN < day <= DAY_MAX:  # its day before must still be a day the filters accept
        raise invalid("day", "invalid_day", first=DAY_MIN.isoformat(), last=DAY_MAX.isoformat())
    label = " ".join(label.split())
    if not label or len(label) > NAME_MAX_LENGTH:
        raise invalid("label", "invalid_name", max_length=NAME_MAX_LENGTH)
    if unit_id is not None:
        unit = session.get(models.Unit, unit_id)
        if unit is None or unit.structure_id != structure_id:
            raise invalid("unit_id", "unit_not_in_structure")
    return day, label


def add_milestone(
    session: Session, user: models.User, structure_id: int, day: date, label: str, unit_id: int | None = None
) -> models.Milestone:
    milestone = new_milestone(session, user, structure_id, day, label, unit_id)
    session.commit()
    session.refresh(milestone)
    return milestone


def new_milestone(
    session: Session,
    user: models.User,
    structure_id: int,
    day: date,
    label: str,
    unit_id: int | None = None,
    workshop_action_id: int | None = None,
) -> models.Milestone:
    """A milestone and its audit event in the caller's transaction (not committed): a workshop action that
    is done creates one per structure it concerns, all or none."""
    managed_structure(session, user, structure_id)
    day, label = _checked(session, structure_id, unit_id, day, label)
    milestone = models.Milestone(
        structure_id=structure_id,
        unit_id=unit_id,
        day=day,
        label=label,
        created_by_user_id=user.id,
        workshop_action_id=workshop_action_id,
    )
    session.add(milestone)
    session.flush()
    details: dict[str, object] = {"structure_id": structure_id, "day": day.isoformat(), "unit_id": unit_id}
    if workshop_action_id is not None:
        details["workshop_action_id"] = workshop_action_id
    record_audit(
        session,
        AuditAction.MILESTONE_CREATE,
        actor_user_id=user.id,
        target_type="milestone",
        target_id=milestone.id,
        details=details,
    )
    return milestone


def milestones_of_action(session: Session, workshop_action_id: int) -> list[models.Milestone]:
    """The milestones a workshop action created, by structure."""
    return list(
        session.exec(
            select(models.Milestone)
            .where(models.Milestone.workshop_action_id == workshop_action_id)
            .order_by(col(models.Milestone.structure_id))
        ).all()
    )


def remove_milestones_of_action(session: Session, user: models.User, workshop_action_id: int) -> int:
    """Withdraw what a workshop action created (in the caller's transaction, each removal audited);
    milestones entered by hand are never touched. How many went."""
    removed = milestones_of_action(session, workshop_action_id)
    for milestone in removed:
        details: dict[str, object] = {
            "structure_id": milestone.structure_id,
            "day": milestone.day.isoformat(),
            "label": milestone.label,
            "workshop_action_id": workshop_action_id,
        }
        record_audit(
            session,
            AuditAction.MILESTONE_DELETE,
            actor_user_id=user.id,
            target_type="milestone",
            target_id=milestone.id,
            details=details,
        )
        session.delete(milestone)
    return len(removed)


def milestones_by_action(
    session: Session, workshop_action_ids: Collection[int], allowed: Collection[int] | None
) -> dict[int, list[MilestoneOut]]:
    """For the actions pages: the milestones each action created, among the structures ``allowed``."""
    if not workshop_action_ids:
        return {}
    milestone, structure = models.Milestone, models.Structure
    statement = (
        _milestones_query(allowed)
        .where(col(milestone.workshop_action_id).in_(list(workshop_action_ids)))
        .order_by(col(structure.name), col(milestone.id))
    )
    found: dict[int, list[MilestoneOut]] = {}
    for row, structure_name, unit_name in session.exec(statement).all():
        assert row.workshop_action_id is not None
        found.setdefault(row.workshop_action_id, []).append(_milestone_out(row, structure_name, unit_name))
    return found


def _milestones_query(allowed: Collection[int] | None) -> Any:
    """Milestones with their structure's and unit's names, among the structures ``allowed`` (None: all)."""
    milestone, structure, unit = models.Milestone, models.Structure, models.Unit
    statement = (
        select(milestone, structure.name, unit.name)
        .join(structure, col(structure.id) == col(milestone.structure_id))
        .outerjoin(unit, col(unit.id) == col(milestone.unit_id))
    )
    if allowed is not None:
        statement = statement.where(col(milestone.structure_id).in_(list(allowed)))
    return statement


def _milestone_out(row: models.Milestone, structure_name: str, unit_name: str | None) -> MilestoneOut:
    return MilestoneOut(
        id=row.id or 0,
        structure_id=row.structure_id,
        structure_name=structure_name,
        unit_id=row.unit_id,
        unit_name=unit_name,
        day=row.day,
        label=row.label,
        workshop_action_id=row.workshop_action_id,
    )


def _place(place: str) -> tuple[int, int | None]:
    """``place`` from a form: a structure's id, or « structure:unit »."""
    structure_text, _, unit_text = place.partition(":")
    ids_fit = all(len(text) <= ROW_ID_DIGITS for text in (structure_text, unit_text))
    if not ids_fit or not structure_text.isdigit() or (unit_text and not unit_text.isdigit()):
        raise invalid("place", "invalid_place")
    return int(structure_text), int(unit_text) if unit_text else None


def add_milestone_at(
    session: Session, user: models.User, programme_id: int, place: str, day: date, label: str
) -> models.Milestone:
    """A milestone from the programme page's form: ``place`` is a structure's id, or « structure:unit »."""
    structure_id, unit_id = _place(place)
    return add_milestone_in(session, user, programme_id, structure_id, day, label, unit_id)


def add_milestone_in(
    session: Session,
    user: models.User,
    programme_id: int,
    structure_id: int,
    day: date,
    label: str,
    unit_id: int | None = None,
) -> models.Milestone:
    """A milestone in a structure of this programme (a structure of another one: 404)."""
    if managed_structure(session, user, structure_id).programme_id != programme_id:
        raise not_found()
    return add_milestone(session, user, structure_id, day, label, unit_id)


def managed_milestone(session: Session, user: models.User, milestone_id: int) -> models.Milestone:
    """A milestone this user may change: a facilitator of its programme, or an admin (read-only accounts:
    403; a milestone out of the user's programmes: 404, as if it did not exist)."""
    milestone = session.get(models.Milestone, milestone_id)
    if milestone is None:
        raise not_found()
    managed_structure(session, user, milestone.structure_id)
    return milestone


def edit_milestone(
    session: Session,
    user: models.User,
    milestone_id: int,
    *,
    day: date,
    label: str,
    structure_id: int | None = None,
    unit_id: int | None = None,
) -> models.Milestone:
    """Correct a milestone's day, label or place (``structure_id`` None: the same structure). It may move
    to another structure of the same programme only: its comparisons are the programme's."""
    milestone = managed_milestone(session, user, milestone_id)
    before = managed_structure(session, user, milestone.structure_id)
    structure_id = milestone.structure_id if structure_id is None else structure_id
    if managed_structure(session, user, structure_id).programme_id != before.programme_id:
        raise not_found()
    day, label = _checked(session, structure_id, unit_id, day, label)
    details: dict[str, object] = {
        "structure_id": structure_id,
        "unit_id": unit_id,
        "from": milestone.day.isoformat(),
        "to": day.isoformat(),
    }
    if structure_id != milestone.structure_id:
        details["moved_from"] = milestone.structure_id
    milestone.structure_id, milestone.unit_id, milestone.day, milestone.label = (
        structure_id,
        unit_id,
        day,
        label,
    )
    session.add(milestone)
    commit_audited(session, AuditAction.MILESTONE_EDIT, user.id, ("milestone", milestone.id), details)
    session.refresh(milestone)
    return milestone


def edit_milestone_at(
    session: Session, user: models.User, milestone_id: int, place: str, day: date, label: str
) -> models.Milestone:
    """The same from the programme page's form (``place`` as for ``add_milestone_at``)."""
    structure_id, unit_id = _place(place)
    return edit_milestone(
        session, user, milestone_id, day=day, label=label, structure_id=structure_id, unit_id=unit_id
    )


def milestone_programme(session: Session, user: models.User, milestone_id: int) -> int:
    """The programme of a milestone this user may change: where its page sends them back."""
    milestone = managed_milestone(session, user, milestone_id)
    return managed_structure(session, user, milestone.structure_id).programme_id


def milestone_out(session: Session, milestone: models.Milestone) -> MilestoneOut:
    structure = session.get_one(models.Structure, milestone.structure_id)
    unit = session.get(models.Unit, milestone.unit_id) if milestone.unit_id is not None else None
    return MilestoneOut(
        id=milestone.id or 0,
        structure_id=milestone.structure_id,
        structure_name=structure.name,
        unit_id=milestone.unit_id,
        unit_name=unit.name if unit else None,
        day=milestone.day,
        label=milestone.label,
        workshop_action_id=milestone.workshop_action_id,
    )


def delete_milestone(session: Session, user: models.User, milestone_id: int) -> int:
    """Remove a milestone (entered by mistake); its comparisons can no longer be opened. Returns the
    programme it was in."""
    milestone = managed_milestone(session, user, milestone_id)
    programme_id = managed_structure(session, user, milestone.structure_id).programme_id
    details: dict[str, object] = {
        "structure_id": milestone.structure_id,
        "unit_id": milestone.unit_id,
        "day": milestone.day.isoformat(),
    }
    session.delete(milestone)
    commit_audited(session, AuditAction.MILESTONE_DELETE, user.id, ("milestone", milestone_id), details)
    return programme_id


def milestones_of(
    session: Session,
    reader: models.User,
    *,
    programme_id: int | None = None,
    structure_ids: list[int] | None = None,
) -> list[MilestoneOut]:
    """The milestones the reader may see, oldest first, in a programme or some of its structures."""
    allowed = visible_structure_ids(session, reader)
    return milestones_within(session, allowed, programme_id=programme_id, structure_ids=structure_ids)


def milestones_within(
    session: Session,
    allowed: Collection[int] | None,
    *,
    programme_id: int | None = None,
    structure_ids: list[int] | None = None,
) -> list[MilestoneOut]:
    """The same within a scope already worked out (an export's)."""
    milestone, structure = models.Milestone, models.Structure
    statement = _milestones_query(allowed).order_by(col(milestone.day), col(milestone.id))
    if programme_id is not None:
        statement = statement.where(structure.programme_id == programme_id)
    if structure_ids is not None:
        statement = statement.where(col(milestone.structure_id).in_(structure_ids))
    return [_milestone_out(*found) for found in session.exec(statement).all()]


def programme_milestones(session: Session, reader: models.User, programme_id: int) -> list[MilestoneOut]:
    visible_programme(session, reader, programme_id)
    return milestones_of(session, reader, programme_id=programme_id)


def visible_milestone(session: Session, reader: models.User, milestone_id: int) -> models.Milestone:
    milestone = session.get(models.Milestone, milestone_id)
    allowed = visible_structure_ids(session, reader)
    if milestone is None or (allowed is not None and milestone.structure_id not in allowed):
        raise not_found()
    return milestone
