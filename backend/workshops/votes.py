"""Votes from participants' phones: the short code on the presenter screen opens the workshop's voting
page without an account; each phone carries a random cookie of its own, of which only a hash is kept, and
gives at most one vote per theme. A code works only for its workshop and only while the session is open."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend import models
from backend.problems import not_found
from backend.workshops.service import VOTE_CODE_LENGTH, WorkshopStatus, theme_of

VOTER_COOKIE = "vigie_voter"
VOTER_TOKEN_BYTES = 24


def new_voter_token() -> str:
    return secrets.token_urlsafe(VOTER_TOKEN_BYTES)


def _voter_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(code.split()).upper()


@dataclass(frozen=True)
class BallotTheme:
    id: int
    title: str
    voted: bool


@dataclass(frozen=True)
class Ballot:
    code: str
    title: str
    themes: list[BallotTheme]


def open_workshop_by_code(session: Session, code: str) -> models.Workshop:
    """The workshop whose session is open under this code (404 otherwise: unknown, closed alike)."""
    code = normalise_code(code)
    if len(code) != VOTE_CODE_LENGTH:
        raise not_found("workshop_vote_code_unknown")
    workshop = session.exec(select(models.Workshop).where(models.Workshop.vote_code == code)).first()
    if workshop is None or workshop.status != WorkshopStatus.OPEN:
        raise not_found("workshop_vote_code_unknown")
    return workshop


def ballot(session: Session, code: str, voter_token: str | None) -> Ballot:
    """The themes of the open workshop, each saying whether this phone has voted for it."""
    workshop = open_workshop_by_code(session, code)
    themes = session.exec(
        select(models.WorkshopTheme)
        .where(models.WorkshopTheme.workshop_id == workshop.id)
        .order_by(col(models.WorkshopTheme.position), col(models.WorkshopTheme.id))
    ).all()
    voted: set[int] = set()
    if voter_token:
        voted = set(
            session.exec(
                select(models.WorkshopVote.theme_id).where(
                    models.WorkshopVote.voter_hash == _voter_hash(voter_token),
                    col(models.WorkshopVote.theme_id).in_([t.id for t in themes]),
                )
            ).all()
        )
    return Ballot(
        code=workshop.vote_code,
        title=workshop.title,
        themes=[BallotTheme(id=t.id or 0, title=t.title, voted=t.id in voted) for t in themes],
    )


def vote(session: Session, code: str, theme_id: int, voter_token: str) -> bool:
    """This phone's vote for a theme of the open workshop; False when it had already voted for it."""
    workshop = open_workshop_by_code(session, code)
    assert workshop.id is not None
    theme_of(session, workshop.id, theme_id)
    voter = _voter_hash(voter_token)
    existing = session.exec(
        select(models.WorkshopVote.id).where(
            models.WorkshopVote.theme_id == theme_id, models.WorkshopVote.voter_hash == voter
        )
    ).first()
    if existing is not None:
        return False
    session.add(models.WorkshopVote(theme_id=theme_id, voter_hash=voter))
    try:
        session.commit()
    except IntegrityError:  # the same phone, twice at once: the unique constraint keeps one
        session.rollback()
        return False
    return True
