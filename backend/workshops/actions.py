"""The actions a workshop decides and their follow-up: the problem each answers (themes, observations),
its owner by role, due date and status; every status change is in the audit log. When an action is done,
the milestone it marks (a label and a date) shows on the actions page, with the structure's dashboard
before and after that date one click away.

The milestones table of the analyses work is not on main yet: the milestone is kept on the action."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

from sqlmodel import Session, col, select

from backend import models
from backend.audit.actions import AuditAction
from backend.audit.service import record_audit
from backend.auth.access import visible_programme_ids, visible_structure_ids
from backend.db_types import utcnow
from backend.problems import invalid, not_found
from backend.workshops.scope import may_read, runnable_workshop, workshop_structure_ids
from backend.workshops.service import theme_of, written_text


class ActionStatus(StrEnum):
    PROPOSED = "proposed"
    RETAINED = "retained"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    ABANDONED = "abandoned"


ACTION_STATUS_LABELS: dict[str, str] = {
    ActionStatus.PROPOSED: "proposée",
    ActionStatus.RETAINED: "retenue",
    ActionStatus.IN_PROGRESS: "en cours",
    ActionStatus.DONE: "faite",
    ActionStatus.ABANDONED: "abandonnée",
}


@dataclass(frozen=True)
class ActionView:
    id: int
    workshop_id: int
    workshop_title: str
    title: str
    themes: list[str]
    observation_count: int
    owner_role: str
    due_on: date | None
    status: str
    status_label: str
    milestone_label: str
    milestone_on: date | None
    structure_ids: list[int]

    @property
    def milestone_shown(self) -> bool:
        """A done action's milestone marks the dashboards' before and after."""
        return self.status == ActionStatus.DONE and self.milestone_on is not None


def add_action(
    session: Session,
    user: models.User,
    workshop_id: int,
    title: str,
    *,
    theme_ids: Collection[int] = (),
    card_observation_ids: Collection[UUID] = (),
    owner_role: str = "",
    due_on: date | None = None,
    milestone_label: str = "",
    milestone_on: date | None = None,
) -> models.WorkshopAction:
    """An action proposed in the session; the problem it answers is themes and cards of this workshop."""
    workshop = runnable_workshop(session, user, workshop_id)
    themes = sorted({theme_of(session, workshop_id, theme_id).id or 0 for theme_id in theme_ids})
    on_deck = set(
        session.exec(
            select(models.WorkshopCard.observation_id).where(models.WorkshopCard.workshop_id == workshop_id)
        ).all()
    )
    if not set(card_observation_ids) <= on_deck:
        raise not_found()
    programme_id = workshop.programme_id
    action = models.WorkshopAction(
        workshop_id=workshop_id,
        title=written_text(session, programme_id, "title", title),
        theme_ids=themes,
        observation_ids=sorted(str(o) for o in set(card_observation_ids)),
        owner_role=written_text(session, programme_id, "owner_role", owner_role, required=False),
        due_on=due_on,
        milestone_label=written_text(
            session, programme_id, "milestone_label", milestone_label, required=False
        ),
        milestone_on=milestone_on,
    )
    session.add(action)
    session.flush()
    record_audit(
        session,
        AuditAction.WORKSHOP_ACTION_CREATE,
        actor_user_id=user.id,
        target_type="workshop_action",
        target_id=action.id,
        details={"workshop_id": workshop_id},
    )
    session.commit()
    session.refresh(action)
    return action


def set_action_status(
    session: Session,
    user: models.User,
    action_id: int,
    status: ActionStatus,
    milestone_on: date | None = None,
) -> models.WorkshopAction:
    """Move an action along (audited with before and after); marking it done may date its milestone."""
    action = session.get(models.WorkshopAction, action_id)
    if action is None:
        raise not_found()
    runnable_workshop(session, user, action.workshop_id)
    if (
        status == ActionStatus.DONE
        and (milestone_on or action.milestone_on) is None
        and action.milestone_label
    ):
        raise invalid("milestone_on", "workshop_milestone_date_needed")
    previous = action.status
    if milestone_on is not None:
        action.milestone_on = milestone_on
    action.status = status.value
    action.updated_at = utcnow()
    session.add(action)
    record_audit(
        session,
        AuditAction.WORKSHOP_ACTION_STATUS,
        actor_user_id=user.id,
        target_type="workshop_action",
        target_id=action.id,
        details={"from": previous, "to": status.value},
    )
    session.commit()
    session.refresh(action)
    return action


def action_views(session: Session, workshops: list[models.Workshop]) -> list[ActionView]:
    """The actions of these workshops (already checked readable), oldest first."""
    by_id = {w.id: w for w in workshops if w.id is not None}
    if not by_id:
        return []
    actions = session.exec(
        select(models.WorkshopAction)
        .where(col(models.WorkshopAction.workshop_id).in_(list(by_id)))
        .order_by(col(models.WorkshopAction.created_at), col(models.WorkshopAction.id))
    ).all()
    theme_ids = {theme_id for action in actions for theme_id in action.theme_ids}
    titles = {
        t.id: t.title
        for t in session.exec(
            select(models.WorkshopTheme).where(col(models.WorkshopTheme.id).in_(list(theme_ids)))
        ).all()
    }
    structures = {workshop_id: workshop_structure_ids(session, w) for workshop_id, w in by_id.items()}
    return [
        ActionView(
            id=action.id or 0,
            workshop_id=action.workshop_id,
            workshop_title=by_id[action.workshop_id].title,
            title=action.title,
            themes=[titles[t] for t in action.theme_ids if t in titles],
            observation_count=len(action.observation_ids),
            owner_role=action.owner_role,
            due_on=action.due_on,
            status=action.status,
            status_label=ACTION_STATUS_LABELS.get(action.status, action.status),
            milestone_label=action.milestone_label,
            milestone_on=action.milestone_on,
            structure_ids=structures[action.workshop_id],
        )
        for action in actions
    ]


def actions_followed(
    session: Session, user: models.User, programme_id: int | None, structure_id: int | None
) -> list[ActionView]:
    """The actions page: of one programme, or of the workshops that looked at one structure, as far as
    the user may read them (a programme or structure out of scope: 404)."""
    if programme_id is not None:
        programmes = visible_programme_ids(session, user)
        if programmes is not None and programme_id not in programmes:
            raise not_found()
    if structure_id is not None:
        structures = visible_structure_ids(session, user)
        if session.get(models.Structure, structure_id) is None or (
            structures is not None and structure_id not in structures
        ):
            raise not_found()
    query = select(models.Workshop).order_by(col(models.Workshop.held_on), col(models.Workshop.id))
    if programme_id is not None:
        query = query.where(models.Workshop.programme_id == programme_id)
    workshops = [
        w
        for w in session.exec(query).all()
        if may_read(session, user, w)
        and (structure_id is None or structure_id in workshop_structure_ids(session, w))
    ]
    return action_views(session, workshops)
