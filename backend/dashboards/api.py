"""Dashboard figures and inter-observer agreement as JSON: the same numbers the pages show."""

from __future__ import annotations

from fastapi import APIRouter

from backend.auth.deps import CurrentUserDep, FilterDep, ScopeDep
from backend.dashboards.service import (
    Comparison,
    Dashboard,
    programme_comparison,
    programme_dashboard,
    structure_dashboard,
)
from backend.db import SessionDep
from backend.params import RowIdPath
from backend.review.agreement import PairedVisit, paired_visits

router = APIRouter(prefix="/api/v1", tags=["web: dashboard"])


@router.get("/structures/{structure_id}/dashboard")
def structure(
    structure_id: RowIdPath, session: SessionDep, user: CurrentUserDep, criteria: FilterDep
) -> Dashboard:
    return structure_dashboard(session, user, structure_id, criteria)


@router.get("/programmes/{programme_id}/dashboard")
def programme(
    programme_id: RowIdPath, session: SessionDep, user: CurrentUserDep, criteria: FilterDep
) -> Dashboard:
    return programme_dashboard(session, user, programme_id, criteria)


@router.get("/programmes/{programme_id}/comparison")
def comparison(
    programme_id: RowIdPath, session: SessionDep, user: CurrentUserDep, criteria: FilterDep
) -> Comparison:
    return programme_comparison(session, user, programme_id, criteria)


@router.get("/agreement")
def agreement(session: SessionDep, scope: ScopeDep) -> list[PairedVisit]:
    return paired_visits(session, scope)
