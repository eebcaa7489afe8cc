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

from backend.audit.actions import AuditAction
from backend.audit.service import record_audit
from backend.auth.rate_limits import (
    DEFAULT_POLICY,
    ENROL_FAILED,
    ENROL_LOCKED,
    Limit,
    LockoutPolicy,
    enrolment_limit,
    locked_until,
    retry_after_seconds,
)
from backend.db_types import utcnow
from backend.errors import ApiError
from backend.models import Device, EnrolmentCode, Observer, Structure
from backend.problems import not_found, problem, too_many_attempts, unauthenticated
from backend.sync.sequence import serialise_writes
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
        raise not_found("enrolment_target_not_found")
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


def enrol_device(
    session: Session,
    request: EnrolRequest,
    now: datetime | None = None,
    *,
    client_ip: str | None = None,
    policy: LockoutPolicy = DEFAULT_POLICY,
) -> EnrolResponse:
    """Exchange a code for a device token. Every refused code is in the audit log (never the code
    itself); too many from one address lock it out for a while (429)."""
    now = now or utcnow()
    limit = enrolment_limit(policy)
    # Two tablets racing with one code, or one tablet retrying while its first try is still running,
    # must see each other's result: enrolments take the server's write lock and so run one at a time.
    session.rollback()
    if (until := locked_until(session, limit, client_ip, now)) is not None:
        raise too_many_attempts("too_many_enrolment_codes", retry_after_seconds(until, now))
    session.rollback()  # the write lock must be the transaction's first statement (see sequence.py)
    serialise_writes(session)
    record = session.exec(
        select(EnrolmentCode).where(EnrolmentCode.code_hash == _digest(normalise_code(request.code)))
    ).first()
    if record is None:
        raise _refused(session, limit, 400, "enrolment_code_invalid", "unknown", client_ip, now)
    device = session.exec(select(Device).where(Device.installation_id == request.installation_id)).first()
    if record.used_at is not None:
        # A retry answers only for the tablet the code enrolled, while it is still allowed in: a
        # revoked tablet re-sending its first request must not get a token (nor lose its revocation).
        retry = (
            device is not None
            and record.device_id == device.id
            and device.revoked_at is None
            and now - record.used_at <= ENROL_RETRY_WINDOW
        )
        if not retry:
            raise _refused(session, limit, 409, "enrolment_code_used", "used", client_ip, now, record)
    elif record.expires_at < now:
        raise _refused(session, limit, 400, "enrolment_code_expired", "expired", client_ip, now, record)

    token = secrets.token_urlsafe(32)
    if device is None:
        device = Device(installation_id=request.installation_id, observer_id=0, structure_id=0)
    # A retried or new enrolment gives the tablet a fresh token; any earlier one stops working. Only a
    # new code (issued by a facilitator after the revocation) lets a revoked tablet back in.
    device.observer_id = record.observer_id
    device.structure_id = record.structure_id
    device.label = request.label
    device.token_hash = _digest(token)
    device.revoked_at = None
    session.add(device)
    session.flush()
    retried = record.used_at is not None
    record.used_at = record.used_at or now
    record.device_id = device.id
    session.add(record)
    event = record_audit(
        session,
        AuditAction.DEVICE_ENROL,
        actor_device_id=device.id,
        target_type="device",
        target_id=device.id,
        details={
            "observer_id": record.observer_id,
            "structure_id": record.structure_id,
            "enrolment_code_id": record.id,
            "retry": retried,
            **({"client_ip": client_ip} if client_ip else {}),
        },
    )
    event.at = now
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


def _refused(
    session: Session,
    limit: Limit,
    status_code: int,
    code: str,
    reason: str,
    client_ip: str | None,
    now: datetime,
    record: EnrolmentCode | None = None,
) -> ApiError:
    """Record a refused code (committed although the request fails) and say why, or that the address
    is now locked out when this failure was one too many."""
    details: dict[str, object] = {"reason": reason}
    if record is not None:
        details["enrolment_code_id"] = record.id  # which code, never the code itself
    if client_ip:
        details["client_ip"] = client_ip
    event = record_audit(session, ENROL_FAILED, details=details)
    event.at = now
    session.flush()
    until = locked_until(session, limit, client_ip, now)
    if until is not None:
        locked = record_audit(session, ENROL_LOCKED, details={**details, "until": until.isoformat()})
        locked.at = now
    session.commit()
    if until is not None:
        return too_many_attempts("too_many_enrolment_codes", retry_after_seconds(until, now))
    return problem(status_code, code)


def authenticate_device(session: Session, token: str | None, now: datetime | None = None) -> Device:
    if not token:
        raise unauthenticated("missing_token")
    device = session.exec(select(Device).where(Device.token_hash == _digest(token))).first()
    if device is None:
        raise unauthenticated("invalid_token")
    if device.revoked_at is not None:
        raise unauthenticated("device_revoked")
    return device


def revoke_device(
    session: Session,
    device_id: int,
    now: datetime | None = None,
    *,
    actor_user_id: int | None = None,
    via: str | None = "cli",
) -> Device:
    """Revoke a tablet (the ``vigie device revoke`` command, or an admin page once it has checked the
    scope); recorded in the audit log."""
    device = session.get(Device, device_id)
    if device is None:
        raise not_found("device_not_found")
    if device.revoked_at is None:
        device.revoked_at = now or utcnow()
        session.add(device)
        record_audit(
            session,
            AuditAction.DEVICE_REVOKE,
            actor_user_id=actor_user_id,
            target_type="device",
            target_id=device_id,
            details={"via": via} if via else None,
        )
        session.commit()
    return device
