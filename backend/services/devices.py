"""Tablet enrolment, device tokens and revocation.

An enrolment code is short (typed on a tablet or scanned as a QR code) and single use; the tablet
exchanges it once for a long random token. Only SHA-256 hashes of codes and tokens are stored: they
are random enough that a slow password hash adds nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlmodel import Session, select

from backend.db_types import utcnow
from backend.errors import ApiError
from backend.models import Device, EnrolmentCode, Observer, Programme, Structure
from backend.services.sequence import serialise_writes
from shared.messages import message
from shared.sync import ENROLMENT_CODE_LENGTH, EnrolRequest, EnrolResponse

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed on a tablet
DEFAULT_CODE_LIFETIME = timedelta(days=7)
# A tablet whose enrolment answer was lost may retry with the same code for this long.
ENROL_RETRY_WINDOW = timedelta(hours=24)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def format_code(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def enrolment_uri(server_url: str, code: str) -> str:
    """What the QR code holds: the app reads both the server address and the code from it."""
    return "vigie://enrol?" + urlencode(
        {"server": server_url.rstrip("/"), "code": format_code(normalise_code(code))}
    )


@dataclass(frozen=True)
class IssuedCode:
    code: str  # shown once, formatted ABCD-EFGH
    expires_at: datetime
    record: EnrolmentCode


def create_enrolment_code(
    session: Session,
    *,
    observer_id: int,
    structure_id: int,
    created_by_user_id: int | None = None,
    lifetime: timedelta = DEFAULT_CODE_LIFETIME,
    now: datetime | None = None,
) -> IssuedCode:
    observer = session.get(Observer, observer_id)
    structure = session.get(Structure, structure_id)
    if observer is None or structure is None or observer.programme_id != structure.programme_id:
        raise ApiError(404, "not_found", "Observateur ou structure introuvable dans ce programme.")
    now = now or utcnow()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(ENROLMENT_CODE_LENGTH))
    record = EnrolmentCode(
        code_hash=_digest(code),
        observer_id=observer_id,
        structure_id=structure_id,
        created_by_user_id=created_by_user_id,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(record)
    session.commit()
    session.refresh(record)
    return IssuedCode(code=format_code(code), expires_at=record.expires_at, record=record)


def enrol_device(session: Session, request: EnrolRequest, now: datetime | None = None) -> EnrolResponse:
    now = now or utcnow()
    # Two tablets racing with one code, or one tablet retrying while its first try is still running,
    # must see each other's result: enrolments take the server's write lock and so run one at a time.
    session.rollback()
    serialise_writes(session)
    record = session.exec(
        select(EnrolmentCode).where(EnrolmentCode.code_hash == _digest(normalise_code(request.code)))
    ).first()
    if record is None:
        raise ApiError(400, "enrolment_code_invalid", message("enrolment_code_invalid"))
    device = session.exec(select(Device).where(Device.installation_id == request.installation_id)).first()
    if record.used_at is not None:
        retry = (
            device is not None
            and record.device_id == device.id
            and now - record.used_at <= ENROL_RETRY_WINDOW
        )
        if not retry:
            raise ApiError(409, "enrolment_code_used", message("enrolment_code_used"))
    elif record.expires_at < now:
        raise ApiError(400, "enrolment_code_expired", message("enrolment_code_expired"))

    token = secrets.token_urlsafe(32)
    if device is None:
        device = Device(installation_id=request.installation_id, observer_id=0, structure_id=0)
    # A retried or new enrolment gives the tablet a fresh token; any earlier one stops working.
    device.observer_id = record.observer_id
    device.structure_id = record.structure_id
    device.label = request.label
    device.token_hash = _digest(token)
    device.revoked_at = None
    session.add(device)
    session.flush()
    record.used_at = record.used_at or now
    record.device_id = device.id
    session.add(record)
    session.commit()

    observer = session.get(Observer, device.observer_id)
    structure = session.get(Structure, device.structure_id)
    assert observer is not None and structure is not None and device.id is not None
    return EnrolResponse(
        device_id=device.id,
        device_token=token,
        observer_id=observer.id or 0,
        observer_name=observer.display_name,
        structure_id=structure.id or 0,
        programme_id=structure.programme_id,
    )


def authenticate_device(session: Session, token: str | None, now: datetime | None = None) -> Device:
    if not token:
        raise ApiError(401, "missing_token", "Tablette non enrôlée : jeton absent.")
    device = session.exec(select(Device).where(Device.token_hash == _digest(token))).first()
    if device is None:
        raise ApiError(401, "invalid_token", "Jeton de tablette inconnu : enrôlez la tablette à nouveau.")
    if device.revoked_at is not None:
        raise ApiError(
            401, "device_revoked", "Cette tablette a été révoquée : contactez l'animateur du programme."
        )
    return device


def revoke_device(session: Session, device_id: int, now: datetime | None = None) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise ApiError(404, "not_found", "Tablette introuvable.")
    if device.revoked_at is None:
        device.revoked_at = now or utcnow()
        session.add(device)
        session.commit()
    return device


def device_taxonomy_version(session: Session, device: Device) -> str:
    structure = session.get(Structure, device.structure_id)
    assert structure is not None
    programme = session.get(Programme, structure.programme_id)
    assert programme is not None
    return programme.taxonomy_version
