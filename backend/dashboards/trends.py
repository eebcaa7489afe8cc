"""Weekly trends: per week (Monday to Sunday, UTC days as the filters read them), the observed hours and
each category's rate per observed hour with its interval, and the milestones that fall in each week.

Events and visits are put in weeks in the database (epoch arithmetic, the same on both), so a million
observations come back as a few hundred rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import BigInteger, cast, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from backend import models
from backend.auth.access import visible_programme, visible_structure, visible_structure_ids
from backend.dashboards.milestones import MilestoneOut, milestones_of
from backend.dashboards.rates import Rate, rate
from backend.dashboards.service import (
    SQLITE_WEEK_SHIFT,
    WEEK_SECONDS,
    seconds_between,
    visit_conditions,
    with_splits,
)
from backend.grids.terms import code_merges, code_splits
from backend.grids.versions import current_taxonomy_of
from backend.review.filters import ObservationFilter, apply_observation_filter


class Week(BaseModel):
    start: date  # its Monday
    end: date  # its Sunday
    observed_hours: float
    rate: Rate  # every event
    categories: dict[str, Rate]
    milestones: list[MilestoneOut]


class WeeklyTrends(BaseModel):
    categories: list[tuple[str, str]]  # code and label, grid order: the rows of the chart
    weeks: list[Week]  # every week from the first to the last observed, empty ones included


def _week_of(session: Session, column: Any) -> Any:
    """The week's number since a Monday long ago, from a moment: integer arithmetic on both databases."""
    if session.get_bind().dialect.name == "postgresql":
        return func.floor((func.date_part("epoch", column) + SQLITE_WEEK_SHIFT) / WEEK_SECONDS)
    return (cast(func.strftime("%s", column), BigInteger) + SQLITE_WEEK_SHIFT) // WEEK_SECONDS


def _monday(week: int) -> date:
    return datetime.fromtimestamp(week * WEEK_SECONDS - SQLITE_WEEK_SHIFT, UTC).date()


def _week_number(day: date) -> int:
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return (int(moment.timestamp()) + SQLITE_WEEK_SHIFT) // WEEK_SECONDS


def structure_trends(
    session: Session, reader: models.User, structure_id: int, criteria: ObservationFilter
) -> WeeklyTrends:
    structure = visible_structure(session, reader, structure_id)
    scoped = criteria.model_copy(update={"structure_id": structure_id})
    milestones = milestones_of(session, reader, structure_ids=[structure_id])
    return weekly_trends(session, reader, scoped, structure.programme_id, milestones)


def programme_trends(
    session: Session, reader: models.User, programme_id: int, criteria: ObservationFilter
) -> WeeklyTrends:
    visible_programme(session, reader, programme_id)
    scoped = criteria.model_copy(update={"programme_id": programme_id})
    milestones = milestones_of(session, reader, programme_id=programme_id)
    return weekly_trends(session, reader, scoped, programme_id, milestones)


def weekly_trends(
    session: Session,
    reader: models.User,
    criteria: ObservationFilter,
    programme_id: int,
    milestones: list[MilestoneOut],
) -> WeeklyTrends:
    """``criteria`` already names the structure or programme the reader was allowed to open. Categories
    are the programme's published grid, as on its dashboard: codes a later version merged count under
    their new code, and a split code still observed keeps a row of its own."""
    allowed = visible_structure_ids(session, reader)
    obs, visit = models.Observation, models.Visit
    week = _week_of(session, col(obs.occurred_at)).label("week")
    counts: dict[int, dict[str, int]] = {}
    by_week: Any = sa_select(week, col(obs.category), func.count())
    statement: Any = apply_observation_filter(by_week, criteria, allowed).group_by(week, col(obs.category))
    merges = code_merges(session, programme_id).get("category", {})
    for number, category, count in session.exec(statement).all():
        week_counts = counts.setdefault(int(number), {})
        code = merges.get(category, category)
        week_counts[code] = week_counts.get(code, 0) + int(count)
    visit_week = _week_of(session, col(visit.started_at)).label("week")
    seconds = seconds_between(session, col(visit.ended_at), col(visit.started_at))
    observed: dict[int, float] = {}
    time_by_week: Any = (
        sa_select(visit_week, func.coalesce(func.sum(seconds), 0.0))
        .where(*visit_conditions(criteria, allowed))
        .group_by(visit_week)
    )
    for number, total in session.exec(time_by_week).all():
        observed[int(number)] = float(total)
    totals: dict[str, int] = {}
    for week_counts in counts.values():
        for code, count in week_counts.items():
            totals[code] = totals.get(code, 0) + count
    taxonomy = current_taxonomy_of(session, programme_id)
    grid = with_splits(taxonomy, "category", code_splits(session, programme_id), totals)
    numbers = set(counts) | set(observed)
    if numbers:  # a milestone just before or after the weeks observed is still worth showing
        numbers |= {_week_number(m.day) for m in milestones}
    weeks = []
    for number in range(min(numbers), max(numbers) + 1) if numbers else ():
        hours = observed.get(number, 0.0) / 3600
        by_category = counts.get(number, {})
        monday = _monday(number)
        weeks.append(
            Week(
                start=monday,
                end=monday + timedelta(days=6),
                observed_hours=round(hours, 4),
                rate=rate(sum(by_category.values()), hours),
                categories={code: rate(by_category.get(code, 0), hours) for code, _ in grid},
                milestones=[m for m in milestones if 0 <= (m.day - monday).days < 7],
            )
        )
    return WeeklyTrends(categories=grid, weeks=weeks)
