"""Tablets as JSON for administrators and facilitators: list and revoke."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from backend.admin.service import devices_of, revoke
from backend.auth.deps import CsrfApiDep, CurrentUserDep
from backend.db import SessionDep
from backend.params import RowIdPath

router = APIRouter(prefix="/api/v1/devices", tags=["web: administration"])


class DeviceView(BaseModel):
    id: int
    label: str
    observer_name: str
    structure_id: int
    structure_name: str
    last_seen_at: datetime | None
    revoked_at: datetime | None


@router.get("")
def devices(session: SessionDep, user: CurrentUserDep) -> list[DeviceView]:
    return [
        DeviceView(
            id=row.device.id or 0,
            label=row.device.label,
            observer_name=row.observer_name,
            structure_id=row.device.structure_id,
            structure_name=row.structure_name,
            last_seen_at=row.device.last_seen_at,
            revoked_at=row.device.revoked_at,
        )
        for row in devices_of(session, user)
    ]


@router.post("/{device_id}/revoke", status_code=204)
def revoke_device(device_id: RowIdPath, signed_in: CsrfApiDep, session: SessionDep) -> None:
    revoke(session, signed_in.user, device_id)
