"""A visit as a whole: its context, its observations in order, and its timeline with per-visit figures, for
anyone who may read the structure (deleted observations are left out)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from backend import models
from backend.auth.access import visible_structure_ids
from backend.problems import not_found
from backend.review.timeline import TimedEvent, Timeline, lay_out


class VisitEvent(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID  # the observation's
    occurred_at: datetime
    ended_at: datetime | None
    category: str
    role: str | None
    tool: str | None
    effect: str | None


class VisitView(BaseModel):
    id: UUID
    structure_id: int
    structure_name: str
    unit_name: str
    observer_name: str
    timezone: str
    started_at: datetime
    ended_at: datetime | None
    observed_roles: list[str]
    clock_suspect: bool
    events: list[VisitEvent]
    timeline: Timeline


def visit_view(session: Session, reader: models.User, visit_id: UUID) -> VisitView:
    visit = session.get(models.Visit, visit_id)
    allowed = visible_structure_ids(session, reader)
    if visit is None or visit.deleted or (allowed is not None and visit.structure_id not in allowed):
        raise not_found()
    structure = session.get_one(models.Structure, visit.structure_id)
    unit = session.get_one(models.Unit, visit.unit_id)
    observer = session.get_one(models.Observer, visit.observer_id)
    obs = models.Observation
    rows = session.exec(
        select(obs)
        .where(obs.visit_id == visit_id, obs.deleted == False)  # noqa: E712  (SQL expression)
        .order_by(col(obs.occurred_at), col(obs.id))
    ).all()
    zone = ZoneInfo(structure.timezone)
    events = [VisitEvent.model_validate(o) for o in rows]
    timeline = lay_out(
        visit.started_at.astimezone(zone),
        visit.ended_at.astimezone(zone) if visit.ended_at else None,
        [TimedEvent(o.id, o.category, o.occurred_at, o.ended_at, o.task_resumed) for o in rows],
    )
    return VisitView(
        id=visit.id,
        structure_id=structure.id or 0,
        structure_name=structure.name,
        unit_name=unit.name,
        observer_name=observer.display_name,
        timezone=structure.timezone,
        started_at=visit.started_at,
        ended_at=visit.ended_at,
        observed_roles=list(visit.observed_roles),
        clock_suspect=visit.clock_suspect,
        events=events,
        timeline=timeline,
    )
