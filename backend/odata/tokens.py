"""Personal feed tokens: what Excel and Power BI present (HTTP Basic, the token as password) to read the
OData feed as their owner, with the owner's scope. Random, shown once, only their SHA-256 kept (a slow
hash adds nothing to 256 random bits), revocable; creating and revoking one is audited."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlmodel import Session, col, select

from backend import models
from backend.audit.actions import AuditAction
from backend.audit.service import record_audit
from backend.db_types import utcnow
from backend.problems import invalid, not_found

TOKEN_PREFIX = "vigie_feed_"  # noqa: S105 (a prefix, not a token): says what a token found in a file or a log is for
NAME_MAX_LENGTH = 100
# A feed page marks its token as used at most this often: a refresh reads many pages.
LAST_USED_PRECISION = timedelta(minutes=5)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed_token(
    session: Session, owner: models.User, name: str, *, actor_user_id: int | None, via: str
) -> tuple[str, models.FeedToken]:
    """A new token for ``owner``, committed with its audit event. Returns the token (shown this once)."""
    name = " ".join(name.split())
    if not name:
        raise invalid("name", "feed_token_name_empty")
    if len(name) > NAME_MAX_LENGTH:
        raise invalid("name", "feed_token_name_too_long", max_length=NAME_MAX_LENGTH)
    assert owner.id is not None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = models.FeedToken(user_id=owner.id, name=name, token_hash=_digest(token))
    session.add(record)
    session.flush()
    record_audit(
        session,
        AuditAction.FEED_TOKEN_CREATE,
        actor_user_id=actor_user_id,
        target_type="user",
        target_id=owner.id,
        details={"name": name, "email": owner.email, "via": via},
    )
    session.commit()
    session.refresh(record)
    return token, record


def feed_tokens_of(session: Session, owner: models.User) -> list[models.FeedToken]:
    """The owner's tokens, newest first, revoked ones included (they say when)."""
    return list(
        session.exec(
            select(models.FeedToken)
            .where(models.FeedToken.user_id == owner.id)
            .order_by(col(models.FeedToken.created_at).desc(), col(models.FeedToken.id).desc())
        ).all()
    )


def revoke_feed_token(
    session: Session, owner: models.User, token_id: int, *, actor_user_id: int | None, via: str
) -> models.FeedToken:
    """Revoke one of ``owner``'s tokens (another's is 404, as if it did not exist); revoking twice is
    harmless and recorded once."""
    record = session.get(models.FeedToken, token_id)
    if record is None or record.user_id != owner.id:
        raise not_found(says="feed_token_not_found")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        session.add(record)
        record_audit(
            session,
            AuditAction.FEED_TOKEN_REVOKE,
            actor_user_id=actor_user_id,
            target_type="user",
            target_id=owner.id,
            details={"name": record.name, "email": owner.email, "via": via},
        )
        session.commit()
        session.refresh(record)
    return record


def user_for_feed_token(session: Session, token: str) -> models.User | None:
    """The active owner of a token that is not revoked, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    record = session.exec(
        select(models.FeedToken).where(models.FeedToken.token_hash == _digest(token))
    ).first()
    if record is None or record.revoked_at is not None:
        return None
    user = session.get(models.User, record.user_id)
    if user is None or not user.is_active:
        return None
    now = utcnow()
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_PRECISION:
        record.last_used_at = now
        session.add(record)
        session.commit()
        session.refresh(user)
    return user
