"""Dependencies shared by the device-facing routers: protocol version and device token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backend.db import SessionDep, release_connection
from backend.models import Device
from backend.problems import problem
from backend.sync.devices import authenticate_device
from shared.sync import MIN_PROTOCOL_VERSION, PROTOCOL_HEADER, PROTOCOL_VERSION

_bearer = HTTPBearer(auto_error=False, description="The device token received at enrolment.")


async def check_protocol(
    header: Annotated[
        str | None, Header(alias=PROTOCOL_HEADER, description="Sync protocol version: a whole number")
    ] = None,
) -> int:
    # Refused before anything is read or written: the tablet's local data stays as it is.
    # Async although it awaits nothing: it reads one header, and a sync dependency costs a worker-thread
    # round trip on every push and pull.
    # Digits only: "1.0" or " 1" is a client that did not follow the protocol, not version 1.
    version = int(header) if header is not None and header.isascii() and header.isdigit() else None
    if header is not None and version is None:
        raise problem(400, "protocol_unknown", says="protocol_header_invalid")
    if version is None or version < MIN_PROTOCOL_VERSION:
        raise problem(426, "protocol_outdated")
    if version > PROTOCOL_VERSION:
        raise problem(400, "protocol_unknown")
    return version


def current_device(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Device:
    device = authenticate_device(session, credentials.credentials if credentials else None)
    release_connection(session)  # the route runs in another thread trip: see release_connection
    return device


ProtocolDep = Annotated[int, Depends(check_protocol)]
DeviceDep = Annotated[Device, Depends(current_device)]
