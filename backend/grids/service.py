"""Changing a programme's grid: the editor's draft, publishing it as an immutable version, import and export.
With versions.py (reading them), the only module that touches ``grid_version``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from backend import models
from backend.audit.actions import AuditAction
from backend.audit.service import record_audit
from backend.auth.access import require_reviewer, visible_programme
from backend.db_types import utcnow
from backend.errors import ErrorDetail
from backend.grids.usage import deleted_codes_in_use
from backend.grids.validation import grid_problems
from backend.grids.versions import (
    current_version,
    draft,
    programme_taxonomies,
    published_versions,
    seed_programme_grid,
)
from backend.problems import invalid_fields, not_found, problem
from shared.messages import FieldError


@dataclass(frozen=True)
class GridEditor:
    """What the editor page shows: the document being edited and the versions already published."""

    programme: models.Programme
    number: int  # the number the document gets once published
    document: dict[str, Any]
    is_draft: bool
    published: list[models.GridVersion]


def grid_editor(session: Session, user: models.User, programme_id: int) -> GridEditor:
    """The draft if there is one, else a copy of the current version (admins and the programme's
    facilitators only)."""
    programme = _managed(session, user, programme_id)
    existing = draft(session, programme_id)
    published = published_versions(session, programme_id)
    if existing is not None:
        return GridEditor(programme, existing.number, dict(existing.document), True, published)
    number, document = current_version(session, programme_id)
    copy = {k: v for k, v in document.items() if k not in ("mappings", "version")}
    return GridEditor(programme, number + 1, copy, False, published)


def _managed(session: Session, user: models.User, programme_id: int) -> models.Programme:
    require_reviewer(user)
    return visible_programme(session, user, programme_id)


def save_draft_by(
    session: Session, user: models.User, programme_id: int, document: Any
) -> models.GridVersion:
    _managed(session, user, programme_id)
    return save_draft(session, programme_id, document, user.id)


def publish_by(session: Session, user: models.User, programme_id: int) -> models.GridVersion:
    _managed(session, user, programme_id)
    return publish(session, programme_id, user.id)


def export_by(session: Session, user: models.User, programme_id: int, number: int) -> dict[str, Any]:
    _managed(session, user, programme_id)
    return export_document(session, programme_id, number)


def _refuse(problems: list[FieldError]) -> None:
    if problems:
        details = [ErrorDetail(field=p.field, code=p.code, message=p.message) for p in problems]
        raise invalid_fields("grid_invalid", details, count=len(problems))


def save_draft(
    session: Session, programme_id: int, document: Any, actor_user_id: int | None
) -> models.GridVersion:
    """Replace the programme's draft with ``document`` (every problem refused at once, with its place)."""
    if session.get(models.Programme, programme_id) is None:
        raise not_found()
    # A code deleted while data still uses it is said now, not first at publication (once the document
    # has the shape that check reads).
    _refuse(grid_problems(document) or deleted_codes_in_use(session, programme_id, document))
    document = {k: v for k, v in document.items() if k != "version"}
    row = draft(session, programme_id)
    if row is None:
        number, _current = current_version(session, programme_id)
        row = models.GridVersion(programme_id=programme_id, number=number + 1, document=document)
    row.document = document
    row.updated_at = utcnow()
    return _write(session, row, AuditAction.GRID_DRAFT, actor_user_id)


def _write(
    session: Session, row: models.GridVersion, action: AuditAction, actor_user_id: int | None
) -> models.GridVersion:
    """Save a version with its audit event in one transaction."""
    session.add(row)
    record_audit(
        session,
        action,
        actor_user_id=actor_user_id,
        target_type="programme",
        target_id=row.programme_id,
        details={"version": row.number},
    )
    session.commit()
    return row


def publish(session: Session, programme_id: int, actor_user_id: int | None) -> models.GridVersion:
    """Freeze the draft as the programme's newest version: tablets get it at their next pull."""
    row = draft(session, programme_id)
    if row is None:
        raise problem(409, "grid_no_draft")
    document = dict(row.document)
    _refuse(grid_problems(document) + deleted_codes_in_use(session, programme_id, document))
    if not published_versions(session, programme_id):
        # A programme from before grids were kept: its shipped grid becomes version 1 first.
        programme = session.get(models.Programme, programme_id)
        assert programme is not None
        seed_programme_grid(session, programme)
        row.number = max(row.number, 2)
    row.published_at = utcnow()
    row.published_by_user_id = actor_user_id
    return _write(session, row, AuditAction.GRID_PUBLISH, actor_user_id)


def import_grid(
    session: Session, programme_id: int, document: Any, publish_now: bool, actor_user_id: int | None
) -> models.GridVersion:
    """``vigie grid import``: the file becomes the draft, published at once if asked."""
    save_draft(session, programme_id, document, actor_user_id)
    if publish_now:
        return publish(session, programme_id, actor_user_id)
    row = draft(session, programme_id)
    assert row is not None
    return row


def export_document(session: Session, programme_id: int, number: int | None = None) -> dict[str, Any]:
    """A published version (the current one by default) as ``vigie grid import`` reads it back."""
    if session.get(models.Programme, programme_id) is None:
        raise not_found()
    if number is None:
        number, document = current_version(session, programme_id)
    else:
        grids = programme_taxonomies(session, programme_id, [number])
        if number not in grids:
            raise problem(404, "unknown_grid_version", number=number)
        return grids[number].as_dict()
    return {**document, "version": str(number)}
