"""Dashboard figures and inter-observer agreement as JSON: the same numbers the pages show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from backend import models
from backend.auth.deps import AskedByDep, CsrfApiDep, CurrentUserDep, FilterDep, ScopeDep, filter_query_doc
from backend.dashboards.deps import PeriodsQuery, StructuresQuery
from backend.dashboards.milestones import (
    MilestoneOut,
    add_milestone_in,
    delete_milestone,
    edit_milestone,
    managed_milestone,
    milestone_out,
    programme_milestones,
)
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
from shared.schema import NAME_MAX_LENGTH, RowId

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


@router.get("/structures/{structure_id}/dashboard", openapi_extra=filter_query_doc("structure_id"))
def structure(structure_id: RowIdPath, asked: AskedDep) -> Dashboard:
    return structure_dashboard(asked.session, asked.user, structure_id, asked.criteria)


@router.get("/structures/{structure_id}/weekly", openapi_extra=filter_query_doc("structure_id"))
def structure_weekly(structure_id: RowIdPath, asked: AskedDep) -> WeeklyTrends:
    """Per week: observed hours, each category's rate per observed hour (exact 95 % interval), milestones."""
    return structure_trends(asked.session, asked.user, structure_id, asked.criteria)


@router.get("/structures/{structure_id}/before-after")
def before_after(structure_id: RowIdPath, who: AskedByDep, asked: PeriodsQuery) -> RateComparison:
    """Rates per observed hour before and after a milestone (or over any two ranges of days), with the
    rate ratio's exact 95 % interval per category and attribute value."""
    return compare_periods(who.session, who.user, structure_id, asked)


@router.get("/programmes/{programme_id}/dashboard", openapi_extra=filter_query_doc("programme_id"))
def programme(programme_id: RowIdPath, asked: AskedDep) -> Dashboard:
    return programme_dashboard(asked.session, asked.user, programme_id, asked.criteria)


@router.get("/programmes/{programme_id}/milestones")
def milestones(programme_id: RowIdPath, who: AskedByDep) -> list[MilestoneOut]:
    return programme_milestones(who.session, who.user, programme_id)


class NewMilestone(BaseModel):
    model_config = ConfigDict(extra="forbid")

    structure_id: RowId
    unit_id: RowId | None = Field(default=None, description="One of the structure's units; none: all of it.")
    day: date = Field(description="The first day after the change: « after » starts on it.")
    label: str = Field(max_length=NAME_MAX_LENGTH, examples=["DPI déployé"])


class MilestoneChange(BaseModel):
    """Only the fields given change; ``unit_id`` given as null makes it the whole structure's."""

    model_config = ConfigDict(extra="forbid")

    structure_id: RowId | None = Field(default=None, description="Another structure of the same programme.")
    unit_id: RowId | None = None
    day: date | None = None
    label: str | None = Field(default=None, max_length=NAME_MAX_LENGTH)


@router.post("/programmes/{programme_id}/milestones", status_code=201)
def create_milestone(
    programme_id: RowIdPath, body: NewMilestone, signed_in: CsrfApiDep, session: SessionDep
) -> MilestoneOut:
    """A facilitator of the programme (or an admin) dates a digital change in a structure or unit; audited."""
    created = add_milestone_in(
        session, signed_in.user, programme_id, body.structure_id, body.day, body.label, body.unit_id
    )
    return milestone_out(session, created)


@router.patch("/milestones/{milestone_id}")
def change_milestone(
    milestone_id: RowIdPath, body: MilestoneChange, signed_in: CsrfApiDep, session: SessionDep
) -> MilestoneOut:
    """Correct a milestone's day, label or place; audited."""
    current = managed_milestone(session, signed_in.user, milestone_id)
    structure_id = body.structure_id if body.structure_id is not None else current.structure_id
    # A unit belongs to one structure: moved elsewhere without a unit named, the milestone is the structure's.
    kept_unit = current.unit_id if structure_id == current.structure_id else None
    changed = edit_milestone(
        session,
        signed_in.user,
        milestone_id,
        day=body.day if body.day is not None else current.day,
        label=body.label if body.label is not None else current.label,
        structure_id=structure_id,
        unit_id=body.unit_id if "unit_id" in body.model_fields_set else kept_unit,
    )
    return milestone_out(session, changed)


@router.delete("/milestones/{milestone_id}", status_code=204)
def remove_milestone(milestone_id: RowIdPath, signed_in: CsrfApiDep, session: SessionDep) -> Response:
    """Remove a milestone entered by mistake; audited."""
    delete_milestone(session, signed_in.user, milestone_id)
    return Response(status_code=204)


@router.get("/programmes/{programme_id}/comparison", openapi_extra=filter_query_doc("programme_id"))
def comparison(programme_id: RowIdPath, asked: AskedDep) -> Comparison:
    return programme_comparison(asked.session, asked.user, programme_id, asked.criteria)


@router.get("/programmes/{programme_id}/structures-compared")
def structures_compared(programme_id: RowIdPath, who: AskedByDep, asked: StructuresQuery) -> RateComparison:
    """Two structures of the programme over the same days, rate by rate."""
    return compare_structures(who.session, who.user, programme_id, asked)


@router.get("/programmes/{programme_id}/weekly", openapi_extra=filter_query_doc("programme_id"))
def programme_weekly(programme_id: RowIdPath, asked: AskedDep) -> WeeklyTrends:
    return programme_trends(asked.session, asked.user, programme_id, asked.criteria)


@router.get("/agreement")
def agreement(
    session: SessionDep, scope: ScopeDep, slice_seconds: SliceQuery = DEFAULT_SLICE_SECONDS
) -> list[PairedVisit]:
    """Paired visits: kappa on categories, and per attribute, on time slices (``slice_seconds``), on durations
    (Lin's concordance) and on sequences (Needleman–Wunsch), each with its 95 % interval and reading."""
    return paired_visits(session, scope, slice_seconds=slice_seconds)
