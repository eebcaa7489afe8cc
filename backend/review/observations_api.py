"""Reading observations for review: the filtered, paged list and one observation in full."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from backend.auth.deps import CurrentUserDep, FilterDep, ScopeDep
from backend.db import SessionDep
from backend.review.service import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    ObservationDetail,
    ObservationPage,
    list_observations,
    observation_detail,
)

router = APIRouter(prefix="/api/v1/observations", tags=["web: review"])


@router.get("", description="Filters: the fields of ObservationFilter as query parameters.")
def observations(
    session: SessionDep,
    user: CurrentUserDep,
    scope: ScopeDep,
    criteria: FilterDep,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
) -> ObservationPage:
    return list_observations(session, user, criteria, scope, page, page_size)


@router.get("/{observation_id}")
def observation(observation_id: UUID, session: SessionDep, user: CurrentUserDep) -> ObservationDetail:
    return observation_detail(session, user, observation_id)
