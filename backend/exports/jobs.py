"""Exports of large selections, built in the background: asked from a page, an export of more than
``Settings.export_async_rows`` observations is queued rather than holding a request open for minutes; its page
shows the rows written so far and offers the file when it is ready. The file is kept for
``Settings.export_keep_hours`` and removed after (``purge_expired_exports``, run whenever a job is queued or
looked at). Jobs run one at a time per server process, in a thread of their own with its own session.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from backend import models
from backend.db_types import utcnow
from backend.exports.csv import Separator
from backend.exports.rows import ExportScope, count_export_rows
from backend.exports.service import (
    MEDIA_TYPES,
    ExportFormat,
    StartedExport,
    check_export_scope,
    export_chunks,
    file_name,
    record_export,
    start_export,
)
from backend.privacy.pending import screen_pending
from backend.problems import not_found
from backend.review.merged_categories import follow_merged_categories
from backend.settings import Settings

logger = logging.getLogger(__name__)
_RUNNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vigie-export")


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"


STATUS_LABELS = {
    JobStatus.QUEUED: "en attente",
    JobStatus.RUNNING: "en cours",
    JobStatus.READY: "prêt",
    JobStatus.FAILED: "échoué",
    JobStatus.EXPIRED: "expiré (fichier supprimé)",
}


def _path(settings: Settings, job: models.ExportJob) -> Path:
    return settings.export_directory / f"export-{job.id}.{job.export_format}"


def begin_export(
    session: Session,
    scope: ExportScope,
    export_format: ExportFormat,
    user: models.User,
    settings: Settings,
    *,
    separator: Separator,
    from_a_page: bool,
) -> StartedExport | models.ExportJob:
    """An export asked by a signed-in user: streamed now, or, asked from a page for more rows than
    ``settings.export_async_rows``, queued (the caller then calls ``run_in_background``). Scripts that
    call the API get the file in the answer, whatever its size."""
    check_export_scope(session, scope)
    rows = count_export_rows(session, scope)
    if not (from_a_page and rows > settings.export_async_rows):
        return start_export(
            session,
            scope,
            export_format,
            actor_user_id=user.id,
            via="api",
            separator=separator,
            checked_rows=rows,
        )
    # Large, from a page: recorded as start_export records it, then queued.
    purge_expired_exports(session, settings)
    assert user.id is not None
    record_export(
        session,
        scope,
        export_format,
        rows,
        actor_user_id=user.id,
        via="web",
        separator=separator if export_format == ExportFormat.CSV else None,
    )
    job = models.ExportJob(
        user_id=user.id,
        export_format=export_format.value,
        scope=scope.model_dump(mode="json"),
        separator=separator,
        rows=rows,
        file_name=file_name(export_format),
    )
    session.add(job)
    session.commit()
    session.refresh(job)
    return job


def run_in_background(engine: Engine, job_id: int, settings: Settings) -> None:
    _RUNNER.submit(run_export_job, engine, job_id, settings)


def _set(engine: Engine, job_id: int, **values: object) -> None:
    """Progress is written in a transaction of its own, so that the job's page sees it at once."""
    with engine.begin() as connection:
        connection.execute(
            update(models.ExportJob).where(col(models.ExportJob.id) == job_id).values(**values)
        )


def run_export_job(engine: Engine, job_id: int, settings: Settings) -> None:
    """Build the file; whatever goes wrong, the job says it failed (its page stops waiting)."""
    _set(engine, job_id, status=JobStatus.RUNNING.value)
    try:
        _build_file(engine, job_id, settings)
    except Exception as exc:
        logger.exception("export job %s failed", job_id)
        failure = str(exc)[:500] or type(exc).__name__
        _set(engine, job_id, status=JobStatus.FAILED.value, error=failure, finished_at=utcnow())
        return
    now = utcnow()
    expires_at = now + timedelta(hours=settings.export_keep_hours)
    _set(engine, job_id, status=JobStatus.READY.value, finished_at=now, expires_at=expires_at)


def _build_file(engine: Engine, job_id: int, settings: Settings) -> None:
    """Into the export directory, under a temporary name renamed when complete. The session is closed
    before the job's status is written (on SQLite its read transaction would hold that write up)."""
    with Session(engine) as session:
        job = session.get_one(models.ExportJob, job_id)
        path = _path(settings, job)
        partial = path.with_suffix(path.suffix + ".part")
        separator: Separator = ";" if job.separator == ";" else ","
        scope = ExportScope.model_validate(job.scope)
        follow_merged_categories(session, scope.criteria, scope.allowed_structure_ids)
        screen_pending(session, scope.allowed_structure_ids)  # notes pushed since it was queued
        chunks = export_chunks(
            session,
            scope,
            ExportFormat(job.export_format),
            job.rows,
            separator,
            progress=lambda done: _set(engine, job_id, rows_done=done),
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            os.replace(partial, path)
        finally:
            with suppress(OSError):
                partial.unlink()


def export_job_of(session: Session, user: models.User, job_id: int, settings: Settings) -> models.ExportJob:
    """One of the user's jobs (another's is 404, as if it did not exist)."""
    purge_expired_exports(session, settings)
    job = session.get(models.ExportJob, job_id)
    if job is None or job.user_id != user.id:
        raise not_found()
    session.refresh(job)
    return job


def ready_file(session: Session, user: models.User, job_id: int, settings: Settings) -> tuple[Path, str, str]:
    """The file of a ready job: its path, the name to save it under and its media type."""
    job = export_job_of(session, user, job_id, settings)
    path = _path(settings, job)
    if job.status != JobStatus.READY or not path.is_file():
        raise not_found()
    return path, job.file_name, MEDIA_TYPES[ExportFormat(job.export_format)]


def purge_expired_exports(session: Session, settings: Settings) -> int:
    """Remove the files kept past their time; their jobs say so. Returns how many were removed."""
    expired = session.exec(
        select(models.ExportJob).where(
            models.ExportJob.status == JobStatus.READY.value, col(models.ExportJob.expires_at) < utcnow()
        )
    ).all()
    for job in expired:
        _path(settings, job).unlink(missing_ok=True)
        job.status = JobStatus.EXPIRED.value
        session.add(job)
    if expired:
        session.commit()
    return len(expired)
