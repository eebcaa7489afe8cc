"""The actions a workshop decides and their follow-up: the problem each answers (themes, observations),
its owner by role, due date and status; every status change is in the audit log.

An action marked done creates its milestone in the dashboards' milestones table, once per structure the
workshop looks at (its milestone label, or its title; its milestone date, or the day it is marked done):
the milestone then shows on the dashboards' time axes and the before/after comparison opens on it. If the
action goes back from done (a slip, or the change was withdrawn), the milestones it created are removed,
audited: a milestone says a change was deployed on that day, which no longer holds, and a before/after
split at a day when nothing changed would mislead. Marking it done again creates them anew; milestones
entered by hand are never touched."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from uuid import UUID

from sqlmodel import Session, col, select

from backend import models
from backend.audit.actions import AuditAction
from backend.auth.access import visible_programme_ids, visible_structure_ids
from backend.dashboards.milestones import (
    MilestoneOut,
    milestones_by_action,
    milestones_of_action,
    new_milestone,
    remove_milestones_of_action,
)
from backend.db_types import utcnow
from backend.problems import invalid, not_found
from backend.workshops.scope import may_read, runnable_workshop, workshop_structure_ids
from backend.workshops.service import audit, theme_of, written_text


class ActionStatus(StrEnum):
    PROPOSED = "proposed"
    RETAINED = "retained"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    ABANDONED = "abandoned"


# In the order of ActionStatus.
ACTION_STATUS_LABELS: dict[str, str] = dict(
    zip(ActionStatus, ["proposée", "retenue", "en cours", "faite", "abandonnée"], strict=True)
)
ACTION = "workshop_action"  # what the audit log says an action is


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
    milestones: list[MilestoneOut] = field(default_factory=list)  # those it created, as far as readable

    @property
    def milestone_shown(self) -> bool:
        """A done action's milestones mark the dashboards' before and after."""
        return self.status == ActionStatus.DONE and bool(self.milestones)


@dataclass(frozen=True)
class ActionDraft:
    """What the facilitator writes of a new action (each text screened before it is kept)."""

    title: str
    owner_role: str = ""
    due_on: date | None = None
    milestone_label: str = ""
    milestone_on: date | None = None


def add_action(
    session: Session,
    user: models.User,
    workshop_id: int,
    draft: ActionDraft,
    theme_ids: Collection[int] = (),
    card_observation_ids: Collection[UUID] = (),
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
        title=written_text(session, programme_id, "title", draft.title),
        theme_ids=themes,
        observation_ids=sorted(str(o) for o in set(card_observation_ids)),
        owner_role=written_text(session, programme_id, "owner_role", draft.owner_role, required=False),
        due_on=draft.due_on,
        milestone_label=written_text(
            session, programme_id, "milestone_label", draft.milestone_label, required=False
        ),
        milestone_on=draft.milestone_on,
    )
    session.add(action)
    session.flush()
    audit(
        session, user, AuditAction.WORKSHOP_ACTION_CREATE, (ACTION, action.id), {"workshop_id": workshop_id}
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
    """Move an action along (audited with before and after). Done: its milestones are created (or moved to
    a new date); back from done: they are removed. One transaction for all of it."""
    action = session.get(models.WorkshopAction, action_id)
    if action is None:
        raise not_found()
    workshop = runnable_workshop(session, user, action.workshop_id)
    if (
        status == ActionStatus.DONE
        and (milestone_on or action.milestone_on) is None
        and action.milestone_label
    ):
        raise invalid("milestone_on", "workshop_milestone_date_needed")
    previous, planned = action.status, action.milestone_on
    if milestone_on is not None:
        action.milestone_on = milestone_on
    if status == ActionStatus.DONE:
        action.milestone_on = action.milestone_on or date.today()  # deployed today, unless planned
        _deploy_milestones(session, user, action, workshop_structure_ids(session, workshop))
    elif previous == ActionStatus.DONE:
        remove_milestones_of_action(session, user, action_id)
    action.status = status.value
    action.updated_at = utcnow()
    session.add(action)
    change = {"from": previous, "to": status.value}
    if action.milestone_on != planned and action.milestone_on is not None:
        change["milestone_on"] = action.milestone_on.isoformat()
    if len(change) > 2 or previous != status.value:
        audit(session, user, AuditAction.WORKSHOP_ACTION_STATUS, (ACTION, action.id), change)
    session.commit()
    session.refresh(action)
    return action


def _deploy_milestones(
    session: Session, user: models.User, action: models.WorkshopAction, structure_ids: Collection[int]
) -> None:
    """The done action's milestone in each structure concerned: created where missing (so marking it done
    twice creates nothing more), its day and label brought up to date where it exists."""
    assert action.id is not None and action.milestone_on is not None
    label = action.milestone_label or action.title
    existing = {m.structure_id: m for m in milestones_of_action(session, action.id)}
    for structure_id in sorted(set(structure_ids)):
        milestone = existing.get(structure_id)
        if milestone is None:
            new_milestone(
                session, user, structure_id, action.milestone_on, label, workshop_action_id=action.id
            )
        elif (milestone.day, milestone.label) != (action.milestone_on, label):
            milestone.day, milestone.label = action.milestone_on, label
            session.add(milestone)


def action_views(session: Session, reader: models.User, workshops: list[models.Workshop]) -> list[ActionView]:
    """The actions of these workshops (already checked readable), oldest first, with the milestones they
    created in the structures the reader may see."""
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
    created = milestones_by_action(
        session, [a.id for a in actions if a.id is not None], visible_structure_ids(session, reader)
    )
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
            milestones=created.get(action.id or 0, []),
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
    return action_views(session, user, workshops)
