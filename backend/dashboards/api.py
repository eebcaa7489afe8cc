"""Dashboard figures and inter-observer agreement as JSON: the same numbers the pages show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlmodel import Session

from backend import models
from backend.auth.deps import AskedByDep, CurrentUserDep, FilterDep, ScopeDep
from backend.dashboards.deps import PeriodsQuery, StructuresQuery
from backend.dashboards.milestones import MilestoneOut, programme_milestones
from backend.dashboards.rate_comparison import (
    RateComparison,
    compare_periods,
    compare_structures,
)
from backend.dashboards.service import (
    Comparison,
    Dashboard,
    programme_comparison,
    programme_dashboard,
    structure_dashboard,
)
from backend.dashboards.trends import WeeklyTrends, programme_trends, structure_trends
from backend.db import SessionDep
from backend.params import RowIdPath
from backend.review.agreement import DEFAULT_SLICE_SECONDS, PairedVisit, SliceQuery, paired_visits
from backend.review.filters import ObservationFilter

router = APIRouter(prefix="/api/v1", tags=["web: dashboard"])


@dataclass(frozen=True)
class FiguresAsked:
    """Who asks for figures, and filtered how."""

    session: Session
    user: models.User
    criteria: ObservationFilter


def figures_asked(session: SessionDep, user: CurrentUserDep, criteria: FilterDep) -> FiguresAsked:
    return FiguresAsked(session, user, criteria)


AskedDep = Annotated[FiguresAsked, Depends(figures_asked)]


@router.get("/structures/{structure_id}/dashboard")
def structure(structure_id: RowIdPath, asked: AskedDep) -> Dashboard:
    return structure_dashboard(asked.session, asked.user, structure_id, asked.criteria)


@router.get("/structures/{structure_id}/weekly")
def structure_weekly(structure_id: RowIdPath, asked: AskedDep) -> WeeklyTrends:
    """Per week: observed hours, each category's rate per observed hour (exact 95 % interval), milestones."""
    return structure_trends(asked.session, asked.user, structure_id, asked.criteria)


@router.get("/structures/{structure_id}/before-after")
def before_after(structure_id: RowIdPath, who: AskedByDep, asked: PeriodsQuery) -> RateComparison:
    """Rates per observed hour before and after a milestone (or over any two ranges of days), with the
    rate ratio's exact 95 % interval per category and attribute value."""
    return compare_periods(who.session, who.user, structure_id, asked)


@router.get("/programmes/{programme_id}/dashboard")
def programme(programme_id: RowIdPath, asked: AskedDep) -> Dashboard:
    return programme_dashboard(asked.session, asked.user, programme_id, asked.criteria)


@router.get("/programmes/{programme_id}/milestones")
def milestones(programme_id: RowIdPath, who: AskedByDep) -> list[MilestoneOut]:
    return programme_milestones(who.session, who.user, programme_id)


@router.get("/programmes/{programme_id}/comparison")
def comparison(programme_id: RowIdPath, asked: AskedDep) -> Comparison:
    return programme_comparison(asked.session, asked.user, programme_id, asked.criteria)


@router.get("/programmes/{programme_id}/structures-compared")
def structures_compared(programme_id: RowIdPath, who: AskedByDep, asked: StructuresQuery) -> RateComparison:
    """Two structures of the programme over the same days, rate by rate."""
    return compare_structures(who.session, who.user, programme_id, asked)


@router.get("/programmes/{programme_id}/weekly")
def programme_weekly(programme_id: RowIdPath, asked: AskedDep) -> WeeklyTrends:
    return programme_trends(asked.session, asked.user, programme_id, asked.criteria)


@router.get("/agreement")
def agreement(
    session: SessionDep, scope: ScopeDep, slice_seconds: SliceQuery = DEFAULT_SLICE_SECONDS
) -> list[PairedVisit]:
    """Paired visits: kappa on categories, and per attribute, on time slices (``slice_seconds``), on durations
    (Lin's concordance) and on sequences (Needleman–Wunsch), each with its 95 % interval and reading."""
    return paired_visits(session, scope, slice_seconds=slice_seconds)
