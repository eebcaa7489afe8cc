"""Who may see and run a workshop: facilitators (and admins) of its programme prepare and run it;
read-only accounts of a structure it looks at read its record and actions. Anything else answers 404,
so that a workshop of one programme does not exist for another's accounts."""

from __future__ import annotations

from sqlmodel import Session, col, select

from backend import models
from backend.auth.access import can_review, require_reviewer, visible_programme_ids, visible_structure_ids
from backend.problems import not_found


def workshop_structure_ids(session: Session, workshop: models.Workshop) -> list[int]:
    """The structures a workshop looks at: those it names, or every structure of its programme."""
    if workshop.structure_ids:
        return list(workshop.structure_ids)
    rows = session.exec(
        select(models.Structure.id).where(models.Structure.programme_id == workshop.programme_id)
    ).all()
    return [structure_id for structure_id in rows if structure_id is not None]


def may_read(session: Session, user: models.User, workshop: models.Workshop) -> bool:
    programmes = visible_programme_ids(session, user)
    if programmes is None or workshop.programme_id in programmes:
        return True
    structures = visible_structure_ids(session, user) or set()
    return bool(structures & set(workshop_structure_ids(session, workshop)))


def readable_workshop(session: Session, user: models.User, workshop_id: int) -> models.Workshop:
    """The workshop if the user may read its record (404 otherwise, whether it exists or not)."""
    workshop = session.get(models.Workshop, workshop_id)
    if workshop is None or not may_read(session, user, workshop):
        raise not_found()
    return workshop


def may_run(session: Session, user: models.User, workshop: models.Workshop) -> bool:
    """Facilitators of its programme (and admins) prepare and run a workshop."""
    if not can_review(user):
        return False
    programmes = visible_programme_ids(session, user)
    return programmes is None or workshop.programme_id in programmes


def runnable_workshop(session: Session, user: models.User, workshop_id: int) -> models.Workshop:
    """The workshop if the user prepares and runs it (a read-only account that may read it: 403)."""
    workshop = readable_workshop(session, user, workshop_id)
    require_reviewer(user)
    if not may_run(session, user, workshop):
        raise not_found()
    return workshop


def readable_workshop_ids(session: Session, user: models.User, programme_id: int | None = None) -> list[int]:
    """The workshops the user may read (of one programme when given), newest first."""
    query = select(models.Workshop).order_by(col(models.Workshop.held_on).desc(), col(models.Workshop.id))
    if programme_id is not None:
        query = query.where(models.Workshop.programme_id == programme_id)
    programmes = visible_programme_ids(session, user)
    if programmes is not None:
        structures = visible_structure_ids(session, user) or set()
        programmes_of_structures = set(
            session.exec(
                select(models.Structure.programme_id).where(col(models.Structure.id).in_(list(structures)))
            ).all()
        )
        query = query.where(
            col(models.Workshop.programme_id).in_(list(programmes | programmes_of_structures))
        )
    return [w.id for w in session.exec(query).all() if w.id is not None and may_read(session, user, w)]
