"""The audit log: who enrolled, revoked, reviewed, exported or changed an account, and when.

Callers add the event to their own session, so that it is committed with the change it describes
(or not at all when that change is rolled back).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from backend.audit.actions import AuditAction
from backend.auth.access import require_admin
from backend.models import AuditEvent, User


def record_audit(
    session: Session,
    action: AuditAction,
    *,
    actor_user_id: int | None = None,
    actor_device_id: int | None = None,
    target_type: str | None = None,
    target_id: object = None,
    details: dict[str, object] | None = None,
) -> AuditEvent:
    """Add an audit event to the session's transaction; details never hold secrets (tokens, passwords,
    codes)."""
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


def commit_audited(
    session: Session,
    action: AuditAction,
    actor_user_id: int | None,
    target: tuple[str, object],
    details: dict[str, object],
) -> None:
    """Commit a user's change with its audit event (``target``: its type and id)."""
    target_type, target_id = target
    record_audit(
        session,
        action,
        actor_user_id=actor_user_id,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )
    session.commit()


def recent_events(session: Session, user: User, limit: int = 300) -> list[tuple[AuditEvent, str | None]]:
    """The latest events with their author's name, newest first (administrators only)."""
    require_admin(user)
    rows = session.exec(
        select(AuditEvent, User.full_name)
        .outerjoin(User, col(User.id) == col(AuditEvent.actor_user_id))
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
    ).all()
    return list(rows)
