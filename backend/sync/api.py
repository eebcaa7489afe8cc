"""Device sync: enrolment, push, pull. The protocol is described in docs/sync.md."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from backend.db import SessionDep
from backend.db_types import utcnow
from backend.errors import ErrorBody
from backend.security import AttemptDep
from backend.sync import devices
from backend.sync import service as sync
from backend.sync.deps import DeviceDep, ProtocolDep
from shared.schema import DB_BIGINT_MAX, DB_INT_MAX
from shared.sync import MAX_PULL_PAGE, EnrolRequest, EnrolResponse, PullResponse, PushRequest, PushResponse

router = APIRouter(prefix="/api/v1", tags=["sync"])
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 401, 409, 413, 422, 426)
}


@router.post("/devices/enrol", status_code=201, responses={**ERRORS, 429: {"model": ErrorBody}})
def enrol(
    _protocol: ProtocolDep, request: EnrolRequest, session: SessionDep, attempt: AttemptDep
) -> EnrolResponse:
    return devices.enrol_device(
        session, request, attempt.at, client_ip=attempt.client_ip, policy=attempt.policy
    )


@router.post("/sync/push", responses=ERRORS)
def push(
    _protocol: ProtocolDep, request: PushRequest, session: SessionDep, device: DeviceDep, http: Request
) -> PushResponse:
    response = sync.push(session, device, request, utcnow())
    http.app.state.pending_notes.pushed()  # its notes are screened once pushes leave room
    return response


@router.get("/sync/pull", responses=ERRORS)
def pull(
    _protocol: ProtocolDep,
    session: SessionDep,
    device: DeviceDep,
    cursor: Annotated[int, Query(ge=0, le=DB_BIGINT_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL_PAGE)] = 500,
    grid_version: Annotated[
        int | None,
        Query(
            ge=1, le=DB_INT_MAX, description="The grid version the device has: sent again only when newer."
        ),
    ] = None,
    skip_own: Annotated[
        bool,
        Query(description="The device holds every state it pushed: leave those out (docs/sync.md, Pull)."),
    ] = False,
    added_attributes: Annotated[
        bool,
        Query(
            description="The device captures the attributes a programme adds to its grid (`grid_attributes`)."
        ),
    ] = False,
) -> PullResponse:
    return sync.pull(
        session,
        device,
        cursor,
        limit,
        utcnow(),
        grid_version,
        skip_own=skip_own,
        added_attributes=added_attributes,
    )
