"""The workshop record: the document a social-dialogue body (CSE, F3SCT) receives, built from the deck as
its readers may read it (pseudonymised, only approved verbatims), its edition in the audit log."""

from __future__ import annotations

import io

from sqlmodel import Session

from backend import models
from backend.audit.actions import AuditAction
from backend.audit.service import record_audit
from backend.workshops.deck import workshop_deck
from backend.workshops.pdf import write_record


def workshop_record(session: Session, user: models.User, workshop_id: int) -> tuple[bytes, str]:
    """The record's PDF bytes and file name, for anyone who may read the workshop."""
    deck = workshop_deck(session, user, workshop_id)
    buffer = io.BytesIO()
    write_record(deck, buffer)
    record_audit(
        session,
        AuditAction.WORKSHOP_RECORD,
        actor_user_id=user.id,
        target_type="workshop",
        target_id=workshop_id,
    )
    session.commit()
    return buffer.getvalue(), f"vigie-compte-rendu-atelier-{deck.workshop.held_on.isoformat()}.pdf"
