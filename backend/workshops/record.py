"""The workshop record: the document a social-dialogue body (CSE, F3SCT) receives, built from the deck as
its readers may read it (pseudonymised, only approved verbatims), its edition in the audit log. A PDF to
circulate, and the same content as a Word document for the body that amends the minutes."""

from __future__ import annotations

import io

from sqlmodel import Session

from backend import models
from backend.audit.actions import AuditAction
from backend.workshops.deck import workshop_deck
from backend.workshops.pdf import write_record
from backend.workshops.service import audit
from backend.workshops.word import write_record_docx

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def workshop_record(session: Session, user: models.User, workshop_id: int) -> tuple[bytes, str]:
    """The record's PDF bytes and file name, for anyone who may read the workshop."""
    deck = workshop_deck(session, user, workshop_id)
    buffer = io.BytesIO()
    write_record(deck, buffer)
    audit(session, user, AuditAction.WORKSHOP_RECORD, ("workshop", workshop_id))
    session.commit()
    return buffer.getvalue(), f"vigie-compte-rendu-atelier-{deck.workshop.held_on.isoformat()}.pdf"


def workshop_record_docx(session: Session, user: models.User, workshop_id: int) -> tuple[bytes, str]:
    """The same record as a Word document (python-docx), for anyone who may read the workshop."""
    deck = workshop_deck(session, user, workshop_id)
    buffer = io.BytesIO()
    write_record_docx(deck, buffer)
    audit(session, user, AuditAction.WORKSHOP_RECORD, ("workshop", workshop_id), {"format": "docx"})
    session.commit()
    return buffer.getvalue(), f"vigie-compte-rendu-atelier-{deck.workshop.held_on.isoformat()}.docx"
