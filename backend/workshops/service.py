"""Preparing and running a workshop: create it, put observations from the review list on its deck, group
them into themes and order them, count the room's dots, write down what was said, open and close the
session. Every free text a facilitator writes goes through the privacy guard (refused if it seems to name
someone); changes that matter later (creation, opening and closing) are in the audit log."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import date
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend import models
from backend.audit.actions import AuditAction
from backend.audit.service import record_audit
from backend.auth.access import require_reviewer, visible_observation, visible_programme
from backend.privacy.service import programme_glossary, refuse_identifiers
from backend.problems import invalid, not_found
from backend.workshops.scope import may_run, readable_workshop_ids, runnable_workshop, workshop_structure_ids
from shared.schema import NAME_MAX_LENGTH, NOTE_MAX_LENGTH

VOTE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O nor 1/I: read off a projector
VOTE_CODE_LENGTH = 6
MAX_PARTICIPANTS = 500
MAX_DOTS = 999


class WorkshopStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


WORKSHOP_STATUS_LABELS = {WorkshopStatus.OPEN: "séance ouverte", WorkshopStatus.CLOSED: "séance close"}


def written_text(
    session: Session,
    programme_id: int,
    field: str,
    text: str,
    *,
    required: bool = True,
    limit: int = NAME_MAX_LENGTH,
) -> str:
    """A facilitator's free text, trimmed, bounded and screened by the privacy guard."""
    text = " ".join(text.split()) if limit <= NAME_MAX_LENGTH else text.strip()
    if required and not text:
        raise invalid(field, "workshop_text_empty")
    if len(text) > limit:
        raise invalid(field, "string_too_long", max_length=limit)
    if text:
        refuse_identifiers(
            field, "workshop_text_names_someone", text, programme_glossary(session, programme_id)
        )
    return text


def parse_participants(session: Session, programme_id: int, text: str) -> dict[str, int]:
    """``Infirmier·e : 3`` per line: participants by role and count, no names."""
    participants: dict[str, int] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        role, _, count = line.rpartition(":")
        if not role.strip() or not count.strip().isdigit() or not 0 < int(count) <= MAX_PARTICIPANTS:
            raise invalid("participants", "workshop_participants_line", line=line.strip()[:60])
        role = written_text(session, programme_id, "participants", role)
        participants[role] = participants.get(role, 0) + int(count)
    return participants


def _new_vote_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(VOTE_CODE_ALPHABET) for _ in range(VOTE_CODE_LENGTH))
        if session.exec(select(models.Workshop.id).where(models.Workshop.vote_code == code)).first() is None:
            return code


def create_workshop(
    session: Session,
    user: models.User,
    programme_id: int,
    title: str,
    held_on: date,
    place: str = "",
    participants: str = "",
    structure_ids: Collection[int] = (),
) -> models.Workshop:
    require_reviewer(user)
    programme = visible_programme(session, user, programme_id)
    chosen = sorted(set(structure_ids))
    in_programme = set(
        session.exec(select(models.Structure.id).where(models.Structure.programme_id == programme_id)).all()
    )
    if not set(chosen) <= in_programme:
        raise not_found()
    workshop = models.Workshop(
        programme_id=programme_id,
        title=written_text(session, programme_id, "title", title),
        held_on=held_on,
        place=written_text(session, programme_id, "place", place, required=False),
        participants=parse_participants(session, programme_id, participants),
        structure_ids=chosen,
        vote_code=_new_vote_code(session),
        created_by_user_id=user.id,
    )
    session.add(workshop)
    session.flush()
    record_audit(
        session,
        AuditAction.WORKSHOP_CREATE,
        actor_user_id=user.id,
        target_type="workshop",
        target_id=workshop.id,
        details={"programme_id": programme.id},
    )
    session.commit()
    session.refresh(workshop)
    return workshop


def workshops_for(
    session: Session, user: models.User, programme_id: int | None = None
) -> list[models.Workshop]:
    """The workshops the user may read (of one programme when given), newest first."""
    ids = readable_workshop_ids(session, user, programme_id)
    return [session.get_one(models.Workshop, workshop_id) for workshop_id in ids]


def workshops_run_by(session: Session, user: models.User) -> list[models.Workshop]:
    """The workshops the user prepares, offered by the review list's "ajouter à l'atelier"."""
    return [w for w in workshops_for(session, user) if may_run(session, user, w)]


def set_workshop_status(
    session: Session, user: models.User, workshop_id: int, status: WorkshopStatus
) -> models.Workshop:
    """Open the session (phones may vote) or close it (votes are refused, the record stays)."""
    workshop = runnable_workshop(session, user, workshop_id)
    if workshop.status != status.value:
        record_audit(
            session,
            AuditAction.WORKSHOP_STATUS,
            actor_user_id=user.id,
            target_type="workshop",
            target_id=workshop.id,
            details={"from": workshop.status, "to": status.value},
        )
        workshop.status = status.value
        session.add(workshop)
        session.commit()
    return workshop


def add_observations(
    session: Session, user: models.User, workshop_id: int, observation_ids: Collection[UUID]
) -> int:
    """The review list's bulk action: put the ticked observations on the deck (not grouped yet). Each one
    must be readable by the facilitator and belong to a structure the workshop looks at."""
    workshop = runnable_workshop(session, user, workshop_id)
    structures = set(workshop_structure_ids(session, workshop))
    present = set(
        session.exec(
            select(models.WorkshopCard.observation_id).where(models.WorkshopCard.workshop_id == workshop_id)
        ).all()
    )
    position = _next_position(session, models.WorkshopCard, workshop_id)
    added = 0
    for observation_id in dict.fromkeys(observation_ids):
        observation = visible_observation(session, user, observation_id)
        if observation.structure_id not in structures:
            raise invalid("ids", "workshop_observation_elsewhere")
        if observation.id in present:
            continue
        session.add(
            models.WorkshopCard(workshop_id=workshop_id, observation_id=observation.id, position=position)
        )
        position += 1
        added += 1
    session.commit()
    return added


def _next_position(
    session: Session, model: type[models.WorkshopCard] | type[models.WorkshopTheme], workshop_id: int
) -> int:
    last = session.exec(select(func.max(model.position)).where(model.workshop_id == workshop_id)).one()
    return 0 if last is None else int(last) + 1


def add_theme(session: Session, user: models.User, workshop_id: int, title: str) -> models.WorkshopTheme:
    workshop = runnable_workshop(session, user, workshop_id)
    theme = models.WorkshopTheme(
        workshop_id=workshop_id,
        title=written_text(session, workshop.programme_id, "title", title),
        position=_next_position(session, models.WorkshopTheme, workshop_id),
    )
    session.add(theme)
    session.commit()
    session.refresh(theme)
    return theme


def theme_of(session: Session, workshop_id: int, theme_id: int) -> models.WorkshopTheme:
    theme = session.get(models.WorkshopTheme, theme_id)
    if theme is None or theme.workshop_id != workshop_id:
        raise not_found()
    return theme


def _card_of(session: Session, workshop_id: int, card_id: int) -> models.WorkshopCard:
    card = session.get(models.WorkshopCard, card_id)
    if card is None or card.workshop_id != workshop_id:
        raise not_found()
    return card


def place_card(
    session: Session, user: models.User, workshop_id: int, card_id: int, theme_id: int | None
) -> None:
    """Group a card into a theme (None: back among the cards not grouped yet), last of that theme."""
    runnable_workshop(session, user, workshop_id)
    card = _card_of(session, workshop_id, card_id)
    if theme_id is not None:
        theme_of(session, workshop_id, theme_id)
    card.theme_id = theme_id
    card.position = _next_position(session, models.WorkshopCard, workshop_id)
    session.add(card)
    session.commit()


def remove_card(session: Session, user: models.User, workshop_id: int, card_id: int) -> None:
    runnable_workshop(session, user, workshop_id)
    session.delete(_card_of(session, workshop_id, card_id))
    session.commit()


Ordered = TypeVar("Ordered", models.WorkshopCard, models.WorkshopTheme)


def _swap_with_neighbour(session: Session, rows: list[Ordered], row_id: int, step: int) -> None:
    """Move one row of an ordered list up (step -1) or down (+1) by swapping it with its neighbour."""
    index = next((i for i, row in enumerate(rows) if row.id == row_id), None)
    if index is None:
        raise not_found()
    other = index + step
    if 0 <= other < len(rows):
        for position, row in enumerate(rows):
            row.position = position
        rows[index].position, rows[other].position = other, index
        for row in rows:
            session.add(row)
    session.commit()


def move_theme(session: Session, user: models.User, workshop_id: int, theme_id: int, step: int) -> None:
    runnable_workshop(session, user, workshop_id)
    themes = list(
        session.exec(
            select(models.WorkshopTheme)
            .where(models.WorkshopTheme.workshop_id == workshop_id)
            .order_by(col(models.WorkshopTheme.position), col(models.WorkshopTheme.id))
        ).all()
    )
    _swap_with_neighbour(session, themes, theme_id, step)


def move_card(session: Session, user: models.User, workshop_id: int, card_id: int, step: int) -> None:
    """Up or down among the cards of its own theme."""
    runnable_workshop(session, user, workshop_id)
    card = _card_of(session, workshop_id, card_id)
    same_theme = (
        col(models.WorkshopCard.theme_id).is_(None)
        if card.theme_id is None
        else col(models.WorkshopCard.theme_id) == card.theme_id
    )
    cards = list(
        session.exec(
            select(models.WorkshopCard)
            .where(models.WorkshopCard.workshop_id == workshop_id, same_theme)
            .order_by(col(models.WorkshopCard.position), col(models.WorkshopCard.id))
        ).all()
    )
    _swap_with_neighbour(session, cards, card_id, step)


def set_dots(session: Session, user: models.User, workshop_id: int, theme_id: int, dots: int) -> None:
    """Dot voting counted in the room and entered by the facilitator (phones' votes are added to it)."""
    runnable_workshop(session, user, workshop_id)
    if not 0 <= dots <= MAX_DOTS:
        raise invalid("dots", "workshop_dots_range", maximum=MAX_DOTS)
    theme = theme_of(session, workshop_id, theme_id)
    theme.facilitator_dots = dots
    session.add(theme)
    session.commit()


def add_note(
    session: Session, user: models.User, workshop_id: int, theme_id: int, body: str
) -> models.WorkshopNote:
    """What was said about a theme: refused when it seems to name someone (the record goes to a CSE)."""
    workshop = runnable_workshop(session, user, workshop_id)
    theme_of(session, workshop_id, theme_id)
    text = written_text(session, workshop.programme_id, "body", body, limit=NOTE_MAX_LENGTH)
    note = models.WorkshopNote(theme_id=theme_id, body=text, author_user_id=user.id)
    session.add(note)
    session.commit()
    session.refresh(note)
    return note
