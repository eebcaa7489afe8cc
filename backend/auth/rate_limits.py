"""Lockout after repeated failures: sign-in per e-mail and per client address, enrolment codes per address.

Every failure is an audit event whose details name the e-mail and the client address, so the counts
come from the audit log itself: no table of their own, no process memory, the same answer from every
worker. A key is locked while it has ``max_failures`` failures in the last ``window``; it may try again
once the oldest of those leaves the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend.audit.actions import AuditAction
from backend.models import AuditEvent
from backend.settings import Settings

LOGIN_FAILED = AuditAction.LOGIN_FAILED
LOGIN_LOCKED = AuditAction.LOGIN_LOCKED
LOGIN = AuditAction.LOGIN
ENROL_FAILED = AuditAction.ENROL_FAILED
ENROL_LOCKED = AuditAction.ENROL_LOCKED


@dataclass(frozen=True)
class LockoutPolicy:
    login_max_failures: int = 5  # per e-mail address
    login_max_failures_per_ip: int = 20
    enrolment_max_failures_per_ip: int = 10
    window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings) -> LockoutPolicy:
        return cls(
            login_max_failures=settings.login_max_failures,
            login_max_failures_per_ip=settings.login_max_failures_per_ip,
            enrolment_max_failures_per_ip=settings.enrolment_max_failures_per_ip,
            window=timedelta(minutes=settings.lockout_minutes),
        )


DEFAULT_POLICY = LockoutPolicy()


@dataclass(frozen=True)
class Limit:
    """At most ``max_failures`` events ``action`` whose ``details[key]`` is the same value, per ``window``."""

    action: str
    key: str
    max_failures: int
    window: timedelta


def login_limits(policy: LockoutPolicy) -> tuple[Limit, Limit]:
    """(per e-mail, per client address)."""
    return (
        Limit(LOGIN_FAILED, "email", policy.login_max_failures, policy.window),
        Limit(LOGIN_FAILED, "client_ip", policy.login_max_failures_per_ip, policy.window),
    )


def enrolment_limit(policy: LockoutPolicy) -> Limit:
    return Limit(ENROL_FAILED, "client_ip", policy.enrolment_max_failures_per_ip, policy.window)


def locked_until(
    session: Session, limit: Limit, value: str | None, now: datetime, since: datetime | None = None
) -> datetime | None:
    """When ``value`` may try again, or None when it is not locked. Failures before ``since`` (say, the
    account's last successful sign-in) do not count."""
    if not value:
        return None
    start = now - limit.window
    if since is not None and since > start:
        start = since
    # Indexed on action and time; the JSON value is then compared on the window's few failures.
    recent = session.exec(
        select(AuditEvent.at)
        .where(
            AuditEvent.action == limit.action,
            col(AuditEvent.at) > start,
            col(AuditEvent.at) <= now,
            col(AuditEvent.details)[limit.key].as_string() == value,
        )
        .order_by(col(AuditEvent.at).desc())
        .limit(limit.max_failures)
    ).all()
    if len(recent) < limit.max_failures:
        return None
    return recent[-1] + limit.window


def last_sign_in(session: Session, user_id: int | None) -> datetime | None:
    if user_id is None:
        return None
    return session.exec(
        select(func.max(AuditEvent.at)).where(AuditEvent.action == LOGIN, AuditEvent.actor_user_id == user_id)
    ).one()


def retry_after_seconds(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))
