"""Signing in and out of the web app, and changing one's password; every step goes to the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from backend import models
from backend.db_types import utcnow
from backend.errors import ApiError, ErrorDetail
from backend.services.audit import record_audit
from backend.services.users import PASSWORD_MIN_LENGTH, hash_password, verify_password
from backend.services.web_sessions import close_other_sessions, close_session, open_session, purge_expired

BAD_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."
# Verified when the e-mail is unknown, so that a wrong address takes as long as a wrong password.
_DUMMY_HASH = hash_password("vigie-no-such-account")


@dataclass(frozen=True)
class SignedIn:
    user: models.User
    token: str  # the cookie value; only its hash is stored
    csrf_token: str


def sign_in(session: Session, email: str, password: str, now: datetime | None = None) -> SignedIn:
    now = now or utcnow()
    email = email.strip().lower()
    user = session.exec(select(models.User).where(models.User.email == email)).first()
    valid = verify_password(password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not valid or not user.is_active:
        # Committed on its own: the failed attempt must be on record even though the request fails.
        record_audit(
            session,
            "auth.login_failed",
            actor_user_id=user.id if user else None,
            details={"email": email[:320], "reason": "inactive" if user and valid else "credentials"},
        )
        session.commit()
        raise ApiError(401, "invalid_credentials", BAD_CREDENTIALS)
    purge_expired(session, now)
    token, record = open_session(session, user, now)
    record_audit(session, "auth.login", actor_user_id=user.id, target_type="user", target_id=user.id)
    session.commit()
    session.refresh(user)
    return SignedIn(user=user, token=token, csrf_token=record.csrf_token)


def sign_out(session: Session, user: models.User, token: str | None) -> None:
    close_session(session, token)
    record_audit(session, "auth.logout", actor_user_id=user.id, target_type="user", target_id=user.id)
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
        problems.append(
            ErrorDetail(
                field="new_password",
                code="password_too_short",
                message=f"Nouveau mot de passe trop court : {PASSWORD_MIN_LENGTH} caractères au minimum.",
            )
        )
    elif new != confirmation:
        problems.append(
            ErrorDetail(
                field="confirmation",
                code="password_mismatch",
                message="La confirmation ne correspond pas au nouveau mot de passe.",
            )
        )
    if problems:
        raise ApiError(422, "invalid_password_change", "Mot de passe non modifié.", problems)
    user.password_hash = hash_password(new)
    session.add(user)
    assert user.id is not None
    close_other_sessions(session, user.id, keep_token)
    record_audit(
        session, "user.password_change", actor_user_id=user.id, target_type="user", target_id=user.id
    )
    session.commit()
