"""Observations for review as JSON: the filtered, paged list, one observation in full, and a facilitator's
changes to it (review status, comments, tags; cookie + CSRF header)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from backend.auth.deps import FILTER_QUERY_DOC, CsrfApiDep, CurrentUserDep, FilterDep, ScopeDep
from backend.db import SessionDep
from backend.db_types import utcnow
from backend.review import service as review
from backend.review.service import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    CommentView,
    ObservationDetail,
    ObservationPage,
    list_observations,
    observation_detail,
)
from backend.review.visits import VisitView, visit_view
from shared.schema import NOTE_MAX_LENGTH, ReviewStatus, StoredText

router = APIRouter(prefix="/api/v1/observations", tags=["web: review"])
visits_router = APIRouter(prefix="/api/v1/visits", tags=["web: review"])


@visits_router.get("/{visit_id}")
def visit(visit_id: UUID, session: SessionDep, user: CurrentUserDep) -> VisitView:
    """A visit's context, its observations in order, its timeline laid out and its figures (events per
    hour, share of time in timed events, multitasking time, interruptions and those during a task)."""
    return visit_view(session, user, visit_id)


@router.get("", description="Filters: the query parameters listed here.", openapi_extra=FILTER_QUERY_DOC)
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


class StatusChange(BaseModel):
    review_status: ReviewStatus


class NewComment(BaseModel):
    body: StoredText = Field(max_length=NOTE_MAX_LENGTH * 2)  # the service gives the precise message


class CorrectedNote(BaseModel):
    note: StoredText = Field(max_length=NOTE_MAX_LENGTH * 2)  # the service gives the precise message


class NewTag(BaseModel):
    tag: StoredText = Field(max_length=200)


class Tags(BaseModel):
    tags: list[str]


@router.post("/{observation_id}/review-status")
def change_status(
    observation_id: UUID, body: StatusChange, signed_in: CsrfApiDep, session: SessionDep
) -> ObservationDetail:
    review.set_review_status(session, signed_in.user, observation_id, body.review_status)
    return review.observation_detail(session, signed_in.user, observation_id)


@router.post("/{observation_id}/comments", status_code=201)
def comment(
    observation_id: UUID, body: NewComment, signed_in: CsrfApiDep, session: SessionDep
) -> CommentView:
    created = review.add_comment(session, signed_in.user, observation_id, body.body)
    return CommentView(
        id=created.id or 0,
        body=created.body,
        author_name=signed_in.user.full_name,
        created_at=created.created_at,
    )


class VerbatimApproval(BaseModel):
    observation_ids: list[UUID] = Field(min_length=1, max_length=MAX_PAGE_SIZE)
    approved: bool = True


class ApprovalResult(BaseModel):
    changed: int


@router.post("/verbatims")
def approve_verbatims(body: VerbatimApproval, signed_in: CsrfApiDep, session: SessionDep) -> ApprovalResult:
    """Approve notes for workshop material (or withdraw), one or many: only approved notes print their
    text in the workshop pack."""
    return ApprovalResult(
        changed=review.approve_verbatims(session, signed_in.user, body.observation_ids, body.approved)
    )


class BulkStatus(BaseModel):
    observation_ids: list[UUID] = Field(min_length=1, max_length=MAX_PAGE_SIZE)
    review_status: ReviewStatus


class BulkTag(BaseModel):
    observation_ids: list[UUID] = Field(min_length=1, max_length=MAX_PAGE_SIZE)
    tag: StoredText = Field(max_length=200)


@router.post("/statuses")
def set_statuses(body: BulkStatus, signed_in: CsrfApiDep, session: SessionDep) -> ApprovalResult:
    """One review status for many observations (the review list's bulk action); each audited, none changed
    when one is out of the reader's scope."""
    return ApprovalResult(
        changed=review.set_review_statuses(session, signed_in.user, body.observation_ids, body.review_status)
    )


@router.post("/tags")
def add_tags(body: BulkTag, signed_in: CsrfApiDep, session: SessionDep) -> ApprovalResult:
    """One tag on many observations (a theme to prepare a workshop); checked for identifiers first."""
    return ApprovalResult(changed=review.add_tags(session, signed_in.user, body.observation_ids, body.tag))


@router.post("/{observation_id}/note")
def redact_note(
    observation_id: UUID, body: CorrectedNote, signed_in: CsrfApiDep, session: SessionDep
) -> ObservationDetail:
    """A facilitator's correction of a note that names someone; the original is kept nowhere."""
    review.redact_note(session, signed_in.user, observation_id, body.note, utcnow())
    return review.observation_detail(session, signed_in.user, observation_id)


@router.post("/{observation_id}/tags")
def add_tag(observation_id: UUID, body: NewTag, signed_in: CsrfApiDep, session: SessionDep) -> Tags:
    return Tags(tags=review.add_tag(session, signed_in.user, observation_id, body.tag))


@router.delete("/{observation_id}/tags/{tag}")
def remove_tag(
    observation_id: UUID,
    tag: Annotated[StoredText, Path(max_length=200)],
    signed_in: CsrfApiDep,
    session: SessionDep,
) -> Tags:
    return Tags(tags=review.remove_tag(session, signed_in.user, observation_id, tag))
