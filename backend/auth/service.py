"""Signing in and out of the web app, and changing one's password; every step goes to the audit log."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypedDict

from sqlmodel import Session, select

from backend import models
from backend.audit.actions import AuditAction
from backend.audit.service import record_audit
from backend.auth.rate_limits import (
    DEFAULT_POLICY,
    LOGIN,
    LOGIN_FAILED,
    LOGIN_LOCKED,
    LockoutPolicy,
    last_sign_in,
    locked_until,
    login_limits,
    retry_after_seconds,
)
from backend.auth.users import PASSWORD_MIN_LENGTH, hash_password, normalise_email, verify_password
from backend.auth.web_sessions import (
    close_other_sessions,
    close_session,
    csrf_token_of,
    open_session,
    purge_expired,
)
from backend.db_types import utcnow
from backend.errors import ErrorDetail
from backend.problems import detail, invalid_fields, too_many_attempts, unauthenticated

# Verified when the e-mail is unknown, so that a wrong address takes as long as a wrong password.
_DUMMY_HASH = hash_password("vigie-no-such-account")


@dataclass(frozen=True)
class SignedIn:
    user: models.User
    token: str  # the cookie value; only its hash is stored
    csrf_token: str


def sign_in(
    session: Session,
    email: str,
    password: str,
    now: datetime | None = None,
    *,
    client_ip: str | None = None,
    replaces_token: str | None = None,
    policy: LockoutPolicy = DEFAULT_POLICY,
) -> SignedIn:
    """Check the credentials and open a new session.

    Refused (429) while the e-mail or the client's address is locked out, even with the right password.
    ``replaces_token`` is the session cookie the browser already had: it is closed, never reused, so a
    cookie planted before sign-in is worth nothing after it.
    """
    now = now or utcnow()
    email = normalise_email(email)
    user = session.exec(select(models.User).where(models.User.email == email)).first()
    since = last_sign_in(session, user.id if user else None)
    if (until := _locked_until(session, policy, email, user, client_ip, now, since)) is not None:
        raise too_many_attempts("too_many_sign_ins", retry_after_seconds(until, now))
    valid = verify_password(password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not valid or not user.is_active:
        actor = user.id if user else None
        reason = "inactive" if user and valid else "credentials"
        tried = _tried(email, user)
        _audit(session, LOGIN_FAILED, now, actor, **tried, client_ip=client_ip, reason=reason)
        session.flush()
        until = _locked_until(session, policy, email, user, client_ip, now, since)
        if until is not None:  # this failure was one too many: say so now rather than at the next try
            _audit(session, LOGIN_LOCKED, now, actor, **tried, client_ip=client_ip, until=until)
        # Committed on its own: the failed attempt must be on record even though the request fails.
        session.commit()
        if until is not None:
            raise too_many_attempts("too_many_sign_ins", retry_after_seconds(until, now))
        raise unauthenticated("invalid_credentials")
    purge_expired(session, now)
    close_session(session, replaces_token)
    token, _ = open_session(session, user, now)
    _audit(session, LOGIN, now, user.id, target_id=user.id, client_ip=client_ip)
    session.commit()
    session.refresh(user)
    return SignedIn(user=user, token=token, csrf_token=csrf_token_of(token))


class _Tried(TypedDict, total=False):
    email: str
    unknown_email: str


def _tried(email: str, user: models.User | None) -> _Tried:
    """What a failed sign-in records of the identifier typed: an account's e-mail, or, when no account
    has it (a password typed in the wrong field, say), only a short digest of it. The digest keeps the
    lockout counting unknown e-mails as known ones (so a lockout does not tell whether an account
    exists) while its 16 bits say next to nothing of what was typed."""
    if user is not None:
        return {"email": user.email}
    return {"unknown_email": hashlib.sha256(f"vigie-unknown-email:{email}".encode()).hexdigest()[:4]}


def _locked_until(
    session: Session,
    policy: LockoutPolicy,
    email: str,
    user: models.User | None,
    client_ip: str | None,
    now: datetime,
    since: datetime | None,
) -> datetime | None:
    """The later of the e-mail's and the address's lockouts; failures before the account's last
    successful sign-in do not count against its e-mail."""
    per_email, per_ip = login_limits(policy)
    tried = _tried(email, user)  # as recorded
    key, value = ("email", tried["email"]) if "email" in tried else ("unknown_email", tried["unknown_email"])
    locks = [
        until
        for until in (
            locked_until(session, replace(per_email, key=key), value, now, since=since),
            locked_until(session, per_ip, client_ip, now),
        )
        if until is not None
    ]
    return max(locks, default=None)


def _audit(
    session: Session,
    action: AuditAction,
    now: datetime,
    actor_user_id: int | None,
    target_id: int | None = None,
    **details: object,
) -> None:
    event = record_audit(
        session,
        action,
        actor_user_id=actor_user_id,
        target_type="user" if target_id is not None else None,
        target_id=target_id,
        details={
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in details.items()
            if value is not None
        },
    )
    event.at = now  # the attempt's time, which the lockout counts from


def sign_out(session: Session, user: models.User, token: str | None) -> None:
    close_session(session, token)
    record_audit(session, AuditAction.LOGOUT, actor_user_id=user.id, target_type="user", target_id=user.id)
    session.commit()


def change_password(
    session: Session, user: models.User, current: str, new: str, confirmation: str, keep_token: str | None
) -> None:
    """Check, then replace the password; other browsers signed in as this user are signed out."""
    problems: list[ErrorDetail] = []
    if not verify_password(current, user.password_hash):
        problems.append(
            ErrorDetail(
                field="current_password", code="wrong_password", message="Mot de passe actuel incorrect."
            )
        )
    if len(new) < PASSWORD_MIN_LENGTH:
        problems.append(detail("new_password", "password_too_short", min_length=PASSWORD_MIN_LENGTH))
    elif new != confirmation:
        problems.append(detail("confirmation", "password_mismatch"))
    if problems:
        raise invalid_fields("invalid_password_change", problems)
    user.password_hash = hash_password(new)
    session.add(user)
    assert user.id is not None
    close_other_sessions(session, user.id, keep_token)
    record_audit(
        session, AuditAction.PASSWORD_CHANGE, actor_user_id=user.id, target_type="user", target_id=user.id
    )
    session.commit()
