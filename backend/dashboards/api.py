"""Dashboard figures and inter-observer agreement as JSON: the same numbers the pages show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlmodel import Session

from backend import models
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


@router.get("/programmes/{programme_id}/dashboard")
def programme(programme_id: RowIdPath, asked: AskedDep) -> Dashboard:
    return programme_dashboard(asked.session, asked.user, programme_id, asked.criteria)


@router.get("/programmes/{programme_id}/comparison")
def comparison(programme_id: RowIdPath, asked: AskedDep) -> Comparison:
    return programme_comparison(asked.session, asked.user, programme_id, asked.criteria)


@router.get("/agreement")
def agreement(session: SessionDep, scope: ScopeDep) -> list[PairedVisit]:
    return paired_visits(session, scope)
