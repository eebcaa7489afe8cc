"""The page of an export built in the background (progress, then the file), and its download."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from backend.auth.deps import SignedInDep
from backend.db import SessionDep
from backend.exports.jobs import STATUS_LABELS, JobStatus, export_job_of, ready_file
from backend.params import RowIdPath
from backend.web.layout import page

router = APIRouter(include_in_schema=False)


@router.get("/exports/{job_id}")
def export_job_page(
    request: Request, session: SessionDep, signed_in: SignedInDep, job_id: RowIdPath
) -> Response:
    job = export_job_of(session, signed_in.user, job_id, request.app.state.settings)
    status = JobStatus(job.status)
    context = {
        "job": job,
        "status_label": STATUS_LABELS[status],
        "waiting": status in {JobStatus.QUEUED, JobStatus.RUNNING},
        "percent": 100 if not job.rows else min(100, round(100 * job.rows_done / job.rows)),
    }
    return page(request, session, signed_in, "export_job.html", context)


@router.get("/exports/{job_id}/file")
def export_job_file(
    request: Request, session: SessionDep, signed_in: SignedInDep, job_id: RowIdPath
) -> Response:
    path, name, media_type = ready_file(session, signed_in.user, job_id, request.app.state.settings)
    return FileResponse(path, media_type=media_type, filename=name)
