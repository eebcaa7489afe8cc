"""Device sync: enrolment, push, pull. The protocol is described in docs/sync.md."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from backend.api.deps import DeviceDep, ProtocolDep
from backend.db import SessionDep
from backend.db_types import utcnow
from backend.errors import ErrorBody
from backend.services import devices, sync
from shared.sync import MAX_PULL_PAGE, EnrolRequest, EnrolResponse, PullResponse, PushRequest, PushResponse

router = APIRouter(prefix="/api/v1", tags=["sync"])
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 401, 409, 413, 422, 426)
}


@router.post("/devices/enrol", status_code=201, responses=ERRORS)
def enrol(_protocol: ProtocolDep, request: EnrolRequest, session: SessionDep) -> EnrolResponse:
    return devices.enrol_device(session, request)


@router.post("/sync/push", responses=ERRORS)
def push(
    _protocol: ProtocolDep, request: PushRequest, session: SessionDep, device: DeviceDep
) -> PushResponse:
    return sync.push(session, device, request, utcnow())


@router.get("/sync/pull", responses=ERRORS)
def pull(
    _protocol: ProtocolDep,
    session: SessionDep,
    device: DeviceDep,
    cursor: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL_PAGE)] = 500,
) -> PullResponse:
    return sync.pull(session, device, cursor, limit, utcnow())
