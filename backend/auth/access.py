"""Who may see what: the one scope rule every page, API call and export goes through.

Admins see everything, facilitators the structures of their programmes, structure viewers their one
structure (read-only). Things outside the reader's scope answer 404, never 403, so their existence
does not leak; a reader of the right scope but the wrong role gets 403.
"""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from sqlmodel import Session, col, select

from backend import models
from backend.auth.users import UserRole
from backend.problems import forbidden, not_found


def visible_structure_ids(session: Session, user: models.User) -> set[int] | None:
    """The structures this user may read; None means all of them (admins)."""
    if user.role == UserRole.ADMIN:
        return None
    if user.role == UserRole.FACILITATOR:
        rows = session.exec(
            select(models.Structure.id)
            .join(
                models.UserProgramme,
                col(models.UserProgramme.programme_id) == col(models.Structure.programme_id),
            )
            .where(models.UserProgramme.user_id == user.id)
        ).all()
        return {structure_id for structure_id in rows if structure_id is not None}
    if user.role == UserRole.STRUCTURE_VIEWER and user.structure_id is not None:
        return {user.structure_id}
    return set()


def visible_programme_ids(session: Session, user: models.User) -> set[int] | None:
    """Programmes whose dashboards and administration this user may open (viewers: none)."""
    if user.role == UserRole.ADMIN:
        return None
    if user.role == UserRole.FACILITATOR:
        rows = session.exec(
            select(models.UserProgramme.programme_id).where(models.UserProgramme.user_id == user.id)
        ).all()
        return set(rows)
    return set()


def reads_flagged_notes(user: models.User) -> bool:
    """Structure viewers read the grid, not free text that may name a patient: notes (and comments)
    the privacy guard flags are masked for them, and searching cannot reach them either."""
    return user.role != UserRole.STRUCTURE_VIEWER


def can_review(user: models.User) -> bool:
    return user.role in (UserRole.ADMIN, UserRole.FACILITATOR)


def require_reviewer(user: models.User) -> None:
    if not can_review(user):
        raise forbidden("read_only_account")


def require_admin(user: models.User) -> None:
    if user.role != UserRole.ADMIN:
        raise forbidden("admins_only")


Named = TypeVar("Named", models.Programme, models.Structure)


def _one_in(session: Session, model: type[Named], row_id: int, allowed: set[int] | None) -> Named:
    """The row if it exists and is among ``allowed`` (None: all); otherwise 404, whichever it is."""
    row = session.get(model, row_id)
    if row is None or (allowed is not None and row_id not in allowed):
        raise not_found()
    return row


def visible_structure(session: Session, user: models.User, structure_id: int) -> models.Structure:
    return _one_in(session, models.Structure, structure_id, visible_structure_ids(session, user))


def visible_programme(session: Session, user: models.User, programme_id: int) -> models.Programme:
    return _one_in(session, models.Programme, programme_id, visible_programme_ids(session, user))


def visible_observation(
    session: Session, user: models.User, observation_id: UUID, include_deleted: bool = False
) -> models.Observation:
    """The observation if the user may read it. A deleted one stays readable by reviewers only when
    asked (its page shows what was deleted and the states kept after it); nobody acts on it."""
    allowed = visible_structure_ids(session, user)
    observation = session.get(models.Observation, observation_id)
    if (
        observation is None
        or (observation.deleted and not (include_deleted and can_review(user)))
        or (allowed is not None and observation.structure_id not in allowed)
    ):
        raise not_found()
    return observation


def _by_name(session: Session, model: type[Named], allowed: set[int] | None) -> list[Named]:
    """The rows of ``model`` among ``allowed`` ids (None: all), by name."""
    query = select(model).order_by(col(model.name))
    if allowed is not None:
        query = query.where(col(model.id).in_(list(allowed)))
    return list(session.exec(query).all())


def visible_programmes(session: Session, user: models.User) -> list[models.Programme]:
    """The programmes this user may open, by name."""
    return _by_name(session, models.Programme, visible_programme_ids(session, user))


def visible_structures(session: Session, user: models.User) -> list[models.Structure]:
    """The structures this user may read, by name."""
    return _by_name(session, models.Structure, visible_structure_ids(session, user))


def visible_units(session: Session, allowed_structure_ids: set[int] | None) -> list[tuple[models.Unit, str]]:
    """The units of the structures in scope (None: all), each with its structure's name."""
    query = select(models.Unit, models.Structure.name).join(
        models.Structure, col(models.Structure.id) == col(models.Unit.structure_id)
    )
    if allowed_structure_ids is not None:
        query = query.where(col(models.Unit.structure_id).in_(list(allowed_structure_ids)))
    return list(session.exec(query.order_by(col(models.Structure.name), col(models.Unit.name))).all())


def units_of(session: Session, user: models.User, structure_id: int) -> list[models.Unit]:
    """The units of one structure this user may read (others: 404)."""
    visible_structure(session, user, structure_id)
    return list(
        session.exec(
            select(models.Unit)
            .where(models.Unit.structure_id == structure_id)
            .order_by(col(models.Unit.name))
        ).all()
    )
