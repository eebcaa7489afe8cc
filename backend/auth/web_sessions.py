"""Signed-in browsers, kept in the database so that every API worker recognises them.

The cookie holds a random token; only its SHA-256 hash is stored (it is random, a slow hash adds
nothing), so a copy of the database does not let anyone sign in. Each session has its own CSRF token,
which every form and every cookie-authenticated API write must echo back: derived from the cookie value
(an HMAC of it), so it is never stored either, only its digest (nor written to a log of SQL parameters).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from backend import models
from backend.db_types import utcnow

COOKIE_NAME = "vigie_session"
SESSION_LIFETIME = timedelta(hours=12)  # a working day; then sign in again


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    session: Session, user: models.User, now: datetime | None = None
) -> tuple[str, models.WebSession]:
    """A new session for ``user`` (caller commits). Returns the cookie value, shown only this once."""
    now = now or utcnow()
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    record = models.WebSession(
        token_hash=_digest(token),
        user_id=user.id,
        csrf_token=_digest(csrf_token_of(token)),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(record)
    return token, record


def find_session(
    session: Session, token: str | None, now: datetime | None = None
) -> tuple[models.User, models.WebSession] | None:
    """The active user behind a cookie value, or None (unknown, expired, or account deactivated)."""
    if not token:
        return None
    now = now or utcnow()
    record = session.get(models.WebSession, _digest(token))
    if record is None or record.expires_at <= now:
        return None
    user = session.get(models.User, record.user_id)
    if user is None or not user.is_active:
        return None
    return user, record


def close_session(session: Session, token: str | None) -> None:
    if token:
        session.exec(delete(models.WebSession).where(col(models.WebSession.token_hash) == _digest(token)))


def close_other_sessions(session: Session, user_id: int, keep_token: str | None = None) -> None:
    """After a password change or deactivation, every other browser must sign in again."""
    statement = delete(models.WebSession).where(col(models.WebSession.user_id) == user_id)
    if keep_token:
        statement = statement.where(col(models.WebSession.token_hash) != _digest(keep_token))
    session.exec(statement)


def purge_expired(session: Session, now: datetime | None = None) -> None:
    session.exec(delete(models.WebSession).where(col(models.WebSession.expires_at) <= (now or utcnow())))


def csrf_token_of(token: str) -> str:
    """The CSRF token of the session whose cookie value is ``token``: pages and the API hand it out,
    only its digest is stored (``WebSession.csrf_token``)."""
    return hmac.new(token.encode(), b"vigie-csrf", hashlib.sha256).hexdigest()


def csrf_matches(record: models.WebSession, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(record.csrf_token, _digest(presented or ""))


def sessions_of(session: Session, user_id: int) -> list[models.WebSession]:
    return list(session.exec(select(models.WebSession).where(models.WebSession.user_id == user_id)).all())
