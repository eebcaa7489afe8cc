"""The audit log: who enrolled, revoked, reviewed, exported or changed an account, and when.

Callers add the event to their own session, so that it is committed with the change it describes
(or not at all when that change is rolled back).
"""

from __future__ import annotations

from sqlmodel import Session

from backend.models import AuditEvent


def record_audit(
    session: Session,
    action: str,
    *,
    actor_user_id: int | None = None,
    actor_device_id: int | None = None,
    target_type: str | None = None,
    target_id: object = None,
    details: dict[str, object] | None = None,
) -> AuditEvent:
    """Add an audit event to the session's transaction. ``action`` is a dotted code such as
    ``device.enrol``, ``observation.review``, ``export.xlsx`` or ``user.create``; details never hold
    secrets (tokens, passwords, codes)."""
    event = AuditEvent(
        action=action,
        actor_user_id=actor_user_id,
        actor_device_id=actor_device_id,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details or {},
    )
    session.add(event)
    return event
