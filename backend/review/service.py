"""Reviewing observations: the filtered list, one observation in full, and the facilitator's changes
(status, comments, tags).

What facilitators write goes through the privacy guard like the observers' notes: a comment or tag that
seems to name a patient is refused (the facilitator is at a keyboard and can rephrase; comments go back to
the observer's tablet), and any written before the guard covered them is masked for read-only accounts.

Every change is written under the sync write lock with a new ``server_seq`` on the observation, so the
observer's tablet receives it at its next pull, and is recorded in the audit log in the same transaction.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import and_, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from backend import models
from backend.audit.actions import AuditAction
from backend.audit.service import record_audit
from backend.auth.access import reads_flagged_notes, require_reviewer, visible_observation
from backend.db import counts_per
from backend.grids.terms import attribute_names
from backend.privacy.detector import mask_notes, names_someone
from backend.privacy.pending import screen_pending
from backend.privacy.service import note_for_export, refuse_identifiers, screen_notes, structure_glossary
from backend.problems import invalid
from backend.review.filters import ObservationFilter, apply_observation_filter
from backend.sync.sequence import SequenceAllocator
from shared.schema import ATTRIBUTE_FIELDS, CODE_MAX_LENGTH, NOTE_MAX_LENGTH, ReviewStatus

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MASKED_NOTE = "Note masquée : elle pourrait identifier un patient."
MASKED_COMMENT = "Commentaire masqué : il pourrait identifier un patient."
MASKED_TAG = "[étiquette masquée]"


class ObservationSummary(BaseModel):
    id: UUID
    visit_id: UUID
    occurred_at: datetime
    ended_at: datetime | None
    structure_id: int
    structure_name: str
    timezone: str
    unit_id: int
    unit_name: str
    observer_id: int
    observer_name: str
    category: str
    role: str | None
    tool: str | None
    effect: str | None
    severity: int | None
    note: str | None
    privacy_flagged: bool
    verbatim_approved: bool
    review_status: ReviewStatus
    tags: list[str]
    comment_count: int


class ObservationPage(BaseModel):
    items: list[ObservationSummary]
    total: int
    page: int
    page_size: int
    pages: int


class CommentView(BaseModel):
    id: int
    body: str
    author_name: str
    created_at: datetime


class HistoryEntry(BaseModel):
    at: datetime
    action: str
    actor_name: str
    details: dict[str, Any]


# Why a state sent by a tablet was kept beside the record rather than applied (backend.sync.service).
REVISION_REASONS = {
    "overwritten_by_other_device": "Remplacée par l'envoi d'une autre tablette",
    "edit_after_delete": "Reçue après la suppression",
    "visit_deleted": "Reçue après la suppression de la visite",
}


class RevisionView(BaseModel):
    """A state of the observation that did not become (or stay) the current one, kept for facilitators."""

    recorded_at: datetime
    reason: str
    reason_label: str
    version: int
    device_id: int | None
    deleted: bool
    category: str | None
    note: str | None
    data: dict[str, Any]


class AddedAttributeView(BaseModel):
    """An attribute the programme added to its grid, with the codes the observation has."""

    code: str
    name: str
    values: list[str]


class ObservationDetail(ObservationSummary):
    interruption_source: str | None
    dimensions: list[str]
    impacts: list[str]
    added_attributes: list[AddedAttributeView] = []
    comments: list[CommentView]
    history: list[HistoryEntry]
    revisions: list[RevisionView]
    proposed_note: str | None  # the note as it leaves the server: what a facilitator may accept as is
    deleted: bool
    clock_suspect: bool
    server_seq: int


def _summary_query() -> Any:
    return (
        sa_select(
            models.Observation,
            col(models.Structure.name),
            col(models.Structure.timezone),
            col(models.Unit.id),
            col(models.Unit.name),
            col(models.Observer.display_name),
        )
        .join(models.Structure, col(models.Structure.id) == col(models.Observation.structure_id))
        .join(models.Visit, col(models.Visit.id) == col(models.Observation.visit_id))
        .join(models.Unit, col(models.Unit.id) == col(models.Visit.unit_id))
        .join(models.Observer, col(models.Observer.id) == col(models.Observation.observer_id))
    )


def _note_for(reader: models.User, row: models.Observation) -> str | None:
    # Read-only accounts read notes as they leave the server: masked by the detector (backend.privacy).
    if reads_flagged_notes(reader) or row.note is None:
        return row.note
    masked = note_for_export(row.note, row.note_masked)
    return MASKED_NOTE if row.privacy_flagged and masked == row.note else masked


def _guarded(reader: models.User, text: str, masked: str) -> str:
    """Free text a facilitator wrote, as this reader may read it (the server's detector decides)."""
    if not reads_flagged_notes(reader) and names_someone([text])[0]:
        return masked
    return text


def _tags_for(reader: models.User, tags: list[str]) -> list[str]:
    return [tag for tag in tags if _guarded(reader, tag, MASKED_TAG) == tag]


def _summary(reader: models.User, row: Any, tags: list[str], comments: int) -> dict[str, Any]:
    observation, structure_name, timezone, unit_id, unit_name, observer_name = row
    return {
        **observation.model_dump(
            include={
                "id",
                "visit_id",
                "occurred_at",
                "ended_at",
                "structure_id",
                "observer_id",
                "category",
                "role",
                "tool",
                "effect",
                "severity",
                "privacy_flagged",
                "review_status",
                "verbatim_approved",
            }
        ),
        "note": _note_for(reader, observation),
        "structure_name": structure_name,
        "timezone": timezone,
        "unit_id": unit_id,
        "unit_name": unit_name,
        "observer_name": observer_name,
        "tags": _tags_for(reader, tags),
        "comment_count": comments,
    }


def list_observations(
    session: Session,
    reader: models.User,
    criteria: ObservationFilter,
    allowed_structure_ids: Collection[int] | None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> ObservationPage:
    """One page of the observations matching ``criteria`` within the reader's scope, newest first."""
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    screen_pending(session, allowed_structure_ids)  # notes pushed a moment ago (backend/privacy/pending.py)
    total = session.exec(
        apply_observation_filter(
            select(func.count()).select_from(models.Observation), criteria, allowed_structure_ids
        )
    ).one()
    pages = max(1, math.ceil(total / page_size))
    page = max(1, min(page, pages))
    rows = session.exec(
        apply_observation_filter(_summary_query(), criteria, allowed_structure_ids)
        .order_by(col(models.Observation.occurred_at).desc(), col(models.Observation.id))
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    ids = [row[0].id for row in rows]
    tags = _tags_of(session, ids)
    comments = _comment_counts(session, ids)
    items = [
        ObservationSummary.model_validate(
            _summary(reader, row, tags.get(row[0].id, []), comments.get(row[0].id, 0))
        )
        for row in rows
    ]
    return ObservationPage(items=items, total=total, page=page, page_size=page_size, pages=pages)


class Neighbours(BaseModel):
    """The observations either side of one in the filtered list (newest first): what « précédente » and
    « suivante » open."""

    previous: UUID | None
    following: UUID | None
    position: int | None  # 1-based rank in the list; None when the observation is not in it
    total: int


def neighbours(
    session: Session,
    reader: models.User,
    criteria: ObservationFilter,
    allowed_structure_ids: Collection[int] | None,
    observation_id: UUID,
) -> Neighbours:
    visible_observation(session, reader, observation_id, include_deleted=True)
    obs = models.Observation
    current = session.get_one(obs, observation_id)
    at, ident = col(obs.occurred_at), col(obs.id)
    newer = or_(at > current.occurred_at, and_(at == current.occurred_at, ident < current.id))
    older = or_(at < current.occurred_at, and_(at == current.occurred_at, ident > current.id))

    def first(condition: Any, *order: Any) -> UUID | None:
        statement = apply_observation_filter(select(obs.id).where(condition), criteria, allowed_structure_ids)
        return session.exec(statement.order_by(*order).limit(1)).first()

    def count(*conditions: Any) -> int:
        statement = select(func.count()).select_from(obs).where(*conditions)
        return int(session.exec(apply_observation_filter(statement, criteria, allowed_structure_ids)).one())

    in_list = count(ident == current.id) == 1
    return Neighbours(
        previous=first(newer, at.asc(), ident.desc()) if in_list else None,
        following=first(older, at.desc(), ident.asc()) if in_list else None,
        position=count(newer) + 1 if in_list else None,
        total=count(),
    )


def _tags_of(session: Session, ids: list[UUID]) -> dict[UUID, list[str]]:
    tags: dict[UUID, list[str]] = {}
    if ids:
        for observation_id, tag in session.exec(
            select(models.ObservationTag.observation_id, models.ObservationTag.tag)
            .where(col(models.ObservationTag.observation_id).in_(ids))
            .order_by(col(models.ObservationTag.tag))
        ):
            tags.setdefault(observation_id, []).append(tag)
    return tags


def _comment_counts(session: Session, ids: list[UUID]) -> dict[UUID, int]:
    return counts_per(session, models.ReviewComment.observation_id, ids)


def _added_attributes(
    session: Session, structure_id: int, values: list[models.ObservationAttributeValue]
) -> list[AddedAttributeView]:
    """The values of the programme's own attributes, in the order of its grid's attributes."""
    chosen: dict[str, list[str]] = {}
    for value in values:
        if value.attribute not in ATTRIBUTE_FIELDS:
            chosen.setdefault(value.attribute, []).append(value.code)
    if not chosen:
        return []
    structure = session.get_one(models.Structure, structure_id)
    names = attribute_names(session, structure.programme_id)
    order = [code for code in names if code in chosen] + sorted(set(chosen) - set(names))
    return [AddedAttributeView(code=c, name=names.get(c, c), values=sorted(chosen[c])) for c in order]


def observation_detail(session: Session, reader: models.User, observation_id: UUID) -> ObservationDetail:
    observation_in_scope = visible_observation(session, reader, observation_id, include_deleted=True)
    screen_pending(session, [observation_in_scope.structure_id])
    row = session.exec(_summary_query().where(col(models.Observation.id) == observation_id)).one()
    observation: models.Observation = row[0]
    values = session.exec(
        select(models.ObservationAttributeValue).where(
            models.ObservationAttributeValue.observation_id == observation_id
        )
    ).all()
    comments = session.exec(
        select(models.ReviewComment, models.User.full_name)
        .join(models.User, col(models.User.id) == col(models.ReviewComment.author_user_id))
        .where(models.ReviewComment.observation_id == observation_id)
        .order_by(col(models.ReviewComment.created_at), col(models.ReviewComment.id))
    ).all()
    history = session.exec(
        select(models.AuditEvent, models.User.full_name)
        .outerjoin(models.User, col(models.User.id) == col(models.AuditEvent.actor_user_id))
        .where(
            models.AuditEvent.target_type == "observation", models.AuditEvent.target_id == str(observation_id)
        )
        .order_by(col(models.AuditEvent.at), col(models.AuditEvent.id))
    ).all()
    revisions = session.exec(
        select(models.RecordRevision)
        .where(
            models.RecordRevision.entity == "observation", models.RecordRevision.record_id == observation_id
        )
        .order_by(col(models.RecordRevision.recorded_at), col(models.RecordRevision.id))
    ).all()
    return ObservationDetail.model_validate(
        {
            **_summary(
                reader, row, _tags_of(session, [observation_id]).get(observation_id, []), len(comments)
            ),
            "visit_id": observation.visit_id,
            "interruption_source": observation.interruption_source,
            "dimensions": sorted(v.code for v in values if v.attribute == "dimension"),
            "impacts": sorted(v.code for v in values if v.attribute == "impact"),
            "added_attributes": _added_attributes(session, observation.structure_id, list(values)),
            "server_seq": observation.server_seq,
            "deleted": observation.deleted,
            "proposed_note": note_for_export(observation.note, observation.note_masked),
            "clock_suspect": observation.clock_suspect,
            "revisions": [_revision_view(reader, r) for r in revisions],
            "comments": [
                CommentView(
                    id=c.id or 0,
                    body=_guarded(reader, c.body, MASKED_COMMENT),
                    author_name=name,
                    created_at=c.created_at,
                )
                for c, name in comments
            ],
            "history": [
                HistoryEntry(
                    at=e.at, action=e.action, actor_name=name or "—", details=_details_for(reader, e)
                )
                for e, name in history
            ],
        }
    )


def _details_for(reader: models.User, event: models.AuditEvent) -> dict[str, Any]:
    tag = event.details.get("tag")
    if isinstance(tag, str):
        return {**event.details, "tag": _guarded(reader, tag, MASKED_TAG)}
    return event.details


def _revision_view(reader: models.User, revision: models.RecordRevision) -> RevisionView:
    data = revision.data
    note = data.get("note")
    if not reads_flagged_notes(reader) and isinstance(note, str) and note:
        note = mask_notes([note])[0]
    return RevisionView(
        recorded_at=revision.recorded_at,
        reason=revision.reason,
        reason_label=REVISION_REASONS.get(revision.reason, revision.reason),
        version=revision.version,
        device_id=revision.device_id,
        deleted=bool(data.get("deleted")),
        category=data.get("category") if isinstance(data.get("category"), str) else None,
        note=note if isinstance(note, str) else None,
        data=data if reads_flagged_notes(reader) else {**data, "note": note},
    )


def _locked_observation(
    session: Session, user: models.User, observation_id: UUID
) -> tuple[SequenceAllocator, models.Observation]:
    """Take the sync write lock first (see sequence.py), then read the observation under it."""
    require_reviewer(user)
    allocator = SequenceAllocator(session)
    return allocator, visible_observation(session, user, observation_id)


def _publish(
    session: Session,
    allocator: SequenceAllocator,
    observation: models.Observation,
    user: models.User,
    action: AuditAction,
    details: dict[str, object],
) -> None:
    """A new sequence number sends the observation back to its tablet at the next pull."""
    observation.server_seq = allocator.next()
    allocator.save()
    session.add(observation)
    record_audit(
        session,
        action,
        actor_user_id=user.id,
        target_type="observation",
        target_id=observation.id,
        details=details,
    )
    session.commit()


def set_review_status(
    session: Session, user: models.User, observation_id: UUID, status: ReviewStatus
) -> models.Observation:
    allocator, observation = _locked_observation(session, user, observation_id)
    previous = observation.review_status
    if previous == status.value:
        session.rollback()
        return observation
    observation.review_status = status.value
    _publish(
        session,
        allocator,
        observation,
        user,
        AuditAction.OBSERVATION_REVIEW_STATUS,
        {"from": previous, "to": status.value},
    )
    return observation


def add_comment(session: Session, user: models.User, observation_id: UUID, body: str) -> models.ReviewComment:
    body = body.strip()
    if not body:
        raise invalid("body", "comment_empty")
    if len(body) > NOTE_MAX_LENGTH:
        raise invalid("body", "comment_too_long", max_length=NOTE_MAX_LENGTH)
    allocator, observation = _locked_observation(session, user, observation_id)
    refuse_identifiers(
        "body", "comment_names_a_patient", body, structure_glossary(session, observation.structure_id)
    )
    assert user.id is not None
    comment = models.ReviewComment(observation_id=observation.id, author_user_id=user.id, body=body)
    session.add(comment)
    session.flush()
    _publish(
        session, allocator, observation, user, AuditAction.OBSERVATION_COMMENT, {"comment_id": comment.id}
    )
    session.refresh(comment)
    return comment


def normalise_tag(tag: str) -> str:
    tag = " ".join(tag.split())
    if not tag:
        raise invalid("tag", "tag_empty")
    if len(tag) > CODE_MAX_LENGTH:
        raise invalid("tag", "tag_too_long", max_length=CODE_MAX_LENGTH)
    return tag


def add_tag(session: Session, user: models.User, observation_id: UUID, tag: str) -> list[str]:
    tag = normalise_tag(tag)
    allocator, observation = _locked_observation(session, user, observation_id)
    refuse_identifiers(
        "tag", "tag_names_a_patient", tag, structure_glossary(session, observation.structure_id)
    )
    if session.get(models.ObservationTag, (observation.id, tag)) is None:
        session.add(models.ObservationTag(observation_id=observation.id, tag=tag))
        _publish(session, allocator, observation, user, AuditAction.OBSERVATION_TAG_ADD, {"tag": tag})
    else:
        session.rollback()
    return _tags_of(session, [observation_id]).get(observation_id, [])


def remove_tag(session: Session, user: models.User, observation_id: UUID, tag: str) -> list[str]:
    allocator, observation = _locked_observation(session, user, observation_id)
    existing = session.get(models.ObservationTag, (observation.id, tag))
    if existing is not None:
        session.delete(existing)
        _publish(session, allocator, observation, user, AuditAction.OBSERVATION_TAG_REMOVE, {"tag": tag})
    else:
        session.rollback()
    return _tags_of(session, [observation_id]).get(observation_id, [])


def redact_note(
    session: Session, user: models.User, observation_id: UUID, corrected: str, now: datetime
) -> models.Observation:
    """A facilitator's correction of a note that names someone: the note becomes the corrected text (or
    the proposed masking, accepted as it is), and the original is kept nowhere — not in the states kept
    after conflicts, not in the audit log (which says who corrected which observation, never the text).

    The observation gets a new version written by the server, so the observer's tablet takes the corrected
    note at its next pull; a later edit from the tablet is screened again like any push.
    """
    allocator, observation = _locked_observation(session, user, observation_id)
    note = corrected if corrected.strip() else None
    if note is not None and len(note) > NOTE_MAX_LENGTH:
        raise invalid("note", "string_too_long", max_length=NOTE_MAX_LENGTH)
    glossary = structure_glossary(session, observation.structure_id)
    screened = screen_notes([note], glossary).get(note) if note else None
    observation.note = note
    observation.verbatim_approved = False  # the corrected text is approved on its own, if it is
    observation.note_masked = screened.masked if screened else None
    observation.privacy_flagged = bool(screened and screened.flagged)
    observation.privacy_pending = False
    observation.version += 1
    observation.device_id = None
    observation.updated_at = now
    for revision in session.exec(
        select(models.RecordRevision).where(
            models.RecordRevision.entity == "observation", models.RecordRevision.record_id == observation_id
        )
    ):
        kept = revision.data.get("note")
        if isinstance(kept, str) and kept:
            revision.data = {**revision.data, "note": mask_notes([kept], glossary)[0]}
            session.add(revision)
    _publish(session, allocator, observation, user, AuditAction.OBSERVATION_NOTE_REDACT, {})
    return observation


def approve_verbatims(
    session: Session, user: models.User, observation_ids: Collection[UUID], approved: bool
) -> int:
    """Approve (or withdraw) notes for workshop material, one observation or many from the review list.
    Each change is audited on its observation; notes in the reader's scope only (others: 404)."""
    require_reviewer(user)
    changed = 0
    action = (
        AuditAction.OBSERVATION_VERBATIM_APPROVE if approved else AuditAction.OBSERVATION_VERBATIM_WITHDRAW
    )
    for observation_id in dict.fromkeys(observation_ids):
        observation = visible_observation(session, user, observation_id)
        if observation.verbatim_approved == approved or (approved and not observation.note):
            continue
        observation.verbatim_approved = approved
        session.add(observation)
        record_audit(
            session, action, actor_user_id=user.id, target_type="observation", target_id=observation.id
        )
        changed += 1
    session.commit()
    return changed


def set_review_statuses(
    session: Session, user: models.User, observation_ids: Collection[UUID], status: ReviewStatus
) -> int:
    """The review list's bulk status: each ticked observation as if changed on its own page (audited, sent
    back to its tablet). Every id is checked first, so an observation out of scope changes none (404).
    Returns how many changed."""
    require_reviewer(user)
    ids = list(dict.fromkeys(observation_ids))
    before = {i: visible_observation(session, user, i).review_status for i in ids}
    for observation_id in ids:
        set_review_status(session, user, observation_id, status)
    return sum(1 for previous in before.values() if previous != status.value)


def add_tags(session: Session, user: models.User, observation_ids: Collection[UUID], tag: str) -> int:
    """The review list's bulk tag: checked once against every structure's glossary before any observation
    is tagged (a tag naming a patient tags none). Returns how many were newly tagged."""
    require_reviewer(user)
    tag = normalise_tag(tag)
    ids = list(dict.fromkeys(observation_ids))
    observations = [visible_observation(session, user, i) for i in ids]
    for structure_id in {o.structure_id for o in observations}:
        refuse_identifiers("tag", "tag_names_a_patient", tag, structure_glossary(session, structure_id))
    already = {o for o, tags in _tags_of(session, ids).items() if tag in tags}
    for observation_id in ids:
        add_tag(session, user, observation_id, tag)
    return len(ids) - len(already)


def known_tags(
    session: Session, reader: models.User, allowed_structure_ids: Collection[int] | None
) -> list[str]:
    """Tags already used in the reader's scope (as the reader may read them), offered as suggestions and
    as a filter."""
    statement = (
        select(models.ObservationTag.tag)
        .join(models.Observation, col(models.Observation.id) == col(models.ObservationTag.observation_id))
        .distinct()
        .order_by(col(models.ObservationTag.tag))
    )
    if allowed_structure_ids is not None:
        statement = statement.where(col(models.Observation.structure_id).in_(list(allowed_structure_ids)))
    return _tags_for(reader, list(session.exec(statement).all()))
