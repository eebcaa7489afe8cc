"""Web-app accounts: creation with argon2-hashed passwords."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from pwdlib import PasswordHash
from sqlmodel import Session, select

from backend.models import Programme, Structure, User, UserProgramme
from shared.messages import message

PASSWORD_MIN_LENGTH = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHash.recommended()


class UserRole(StrEnum):
    ADMIN = "admin"
    FACILITATOR = "facilitator"
    STRUCTURE_VIEWER = "viewer"  # reads one structure (User.structure_id), changes nothing


class UserError(ValueError):
    """A user could not be created; the message (by code, from shared.messages) is meant for the person at
    the keyboard."""

    def __init__(self, code: str, **context: Any) -> None:
        super().__init__(message(code, **context))
        self.code = code
        self.context = context


def normalise_email(email: str) -> str:
    """The one spelling of an e-mail address that accounts are created, found and signed in with:
    compatibility characters unfolded (NFKC: the "ﬁ" ligature is "fi") and case folded."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def _scripts(text: str) -> set[str]:
    """The scripts of the letters in ``text`` (LATIN, CYRILLIC, GREEK…), from their Unicode names."""
    return {unicodedata.name(ch, "?").split(" ", 1)[0] for ch in text if ch.isalpha()}


def confusable_email(email: str) -> bool:
    """An address mixing scripts, like a Latin one with a Cyrillic "е" in it, which reads as another
    account's address. A whole address in one script other than Latin is not confusable with it."""
    return len(_scripts(email)) > 1


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher.verify(password, password_hash)


def create_user(
    session: Session,
    *,
    email: str,
    full_name: str,
    role: UserRole,
    password: str,
    programme_ids: Iterable[int] = (),
    structure_id: int | None = None,
) -> User:
    email = normalise_email(email)
    if not _EMAIL.match(email):
        raise UserError("invalid_email", email=email)
    if confusable_email(email):
        raise UserError("email_mixed_scripts", email=email)
    if len(password) < PASSWORD_MIN_LENGTH:
        raise UserError("account_password_too_short", min_length=PASSWORD_MIN_LENGTH)
    if session.exec(select(User).where(User.email == email)).first() is not None:
        raise UserError("email_taken", email=email)
    programme_ids = list(programme_ids)
    for programme_id in programme_ids:
        if session.get(Programme, programme_id) is None:
            raise UserError("unknown_programme", programme_id=programme_id)
    if role == UserRole.STRUCTURE_VIEWER:
        if structure_id is None or session.get(Structure, structure_id) is None:
            raise UserError("viewer_needs_structure")
    else:
        structure_id = None
    if not full_name.strip():
        raise UserError("name_required")
    user = User(
        email=email,
        full_name=full_name.strip(),
        role=role.value,
        password_hash=hash_password(password),
        structure_id=structure_id,
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    for programme_id in programme_ids:
        session.add(UserProgramme(user_id=user.id, programme_id=programme_id))
    session.commit()
    session.refresh(user)
    return user
